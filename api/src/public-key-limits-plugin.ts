import { getOperationAST, Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { TContext } from './context.ts';
import { ValidationError } from './errors.ts';

/**
 * A public key ships inside apps, so its holder is anyone: one request calls one runtime field.
 * Aliases would otherwise multiply the runtime's own bounds (100 events per `track`, one user per
 * `onboarding`) by as many fields as a request body holds. Checked before execution, on the
 * operation that would run, with fragments followed.
 */
export function usePublicKeyLimits(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const context = args.contextValue as Partial<TContext>;
      if (context.principal?.kind !== 'public') return;
      const document: DocumentNode = args.document;
      const operation = getOperationAST(document, args.operationName ?? undefined);
      if (!operation) return;
      const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
      const fields = rootFields(operation.selectionSet, fragments, new Set());
      if (fields > 1) {
        setResultAndStopExecution({
          errors: [new ValidationError([{ path: '', message: `A public key may call one runtime field per request; this one calls ${fields}. Send separate requests.` }])],
        });
      }
    },
  };
}

function rootFields(selections: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, visited: Set<string>): number {
  let count = 0;
  for (const selection of selections.selections) {
    if (selection.kind === Kind.FIELD) count += selection.name.value === '__typename' ? 0 : 1;
    else if (selection.kind === Kind.INLINE_FRAGMENT) count += rootFields(selection.selectionSet, fragments, visited);
    else {
      const fragment = fragments.get(selection.name.value);
      // A fragment spread twice counts once per spread; a cycle is refused by GraphQL's validation.
      if (fragment && !visited.has(fragment.name.value)) count += rootFields(fragment.selectionSet, fragments, new Set([...visited, fragment.name.value]));
    }
  }
  return count;
}
