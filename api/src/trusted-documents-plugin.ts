import { IDENTIFY_DOCUMENT, ONBOARDING_DOCUMENT, TRACK_DOCUMENT } from '@doorstep/client/documents';
import type { DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { TContext } from './context.ts';
import { ForbiddenError } from './errors.ts';

/** What `@doorstep/client` sends with a public key. The debug view's explanation is not among them. */
export const CLIENT_DOCUMENTS: ReadonlySet<string> = new Set([ONBOARDING_DOCUMENT, TRACK_DOCUMENT, IDENTIFY_DOCUMENT]);

/**
 * An environment switched to trusted documents only answers its public keys for the client's own
 * documents, byte for byte: a copied key can then do no more than the app does (no other
 * selection, no debug explanations), which is what persisted queries give other GraphQL servers.
 * The documents are compared as the caller sent them, before anything runs.
 */
export function useTrustedDocuments(): Plugin {
  const sources = new WeakMap<DocumentNode, string>();
  return {
    onParse: ({ params }) => ({ result }) => {
      if (result && typeof result === 'object' && 'kind' in result) sources.set(result as DocumentNode, typeof params.source === 'string' ? params.source : params.source.body);
    },
    onExecute({ args, setResultAndStopExecution }) {
      const principal = (args.contextValue as Partial<TContext>).principal;
      if (principal?.kind !== 'public' || !principal.trustedDocumentsOnly) return;
      const source = sources.get(args.document);
      if (source !== undefined && CLIENT_DOCUMENTS.has(source)) return;
      setResultAndStopExecution({
        errors: [new ForbiddenError("This environment accepts only the documents @doorstep/client sends (trusted documents); send the client's document, or turn the setting off in the studio")],
      });
    },
  };
}
