import { createHash } from 'node:crypto';
import {
  getNamedType, getNullableType, isListType, isObjectType, isScalarType, Kind,
  type FieldNode, type FragmentDefinitionNode, type GraphQLObjectType, type GraphQLOutputType, type SelectionSetNode,
} from 'graphql';

/**
 * Writes a runtime answer as the JSON yoga would send, straight from the resolved value: the same
 * keys in the same order, the same scalars. Alongside the body it writes a recipe, the body with
 * every part that is serialized once per snapshot replaced by that part's digest; the ETag hashes
 * the recipe, so it follows the answer without hashing the answer.
 */
export type TAnswerWriter = { body: string; recipe: string };
export type TSerialize = (value: unknown, out: TAnswerWriter) => void;

/**
 * Fields whose value is the same object for every user served the same flow version and locale
 * (see `resolveOnboarding`): serialized once and digested once, then reused by reference.
 */
const SHARED_PARTS = new Set(['Onboarding.welcome', 'Onboarding.steps', 'Onboarding.questions', 'Onboarding.checklist', 'Onboarding.activation', 'Onboarding.flow']);

/** Fields not resolved by reading the property of the same name (see schema/runtime.ts). */
const COMPUTED: Record<string, (source: TSource) => unknown> = {
  'Onboarding.variant': (onboarding) => (onboarding.variant as { key: string } | null)?.key ?? null,
};

/** The types a runtime answer is made of; anything else is left to yoga. */
const RUNTIME_TYPES = new Set([
  'TrackResult', 'Onboarding', 'OnboardingFlow', 'Welcome', 'Media', 'CallToAction', 'Step', 'Question', 'QuestionOption', 'Checklist', 'ChecklistItem', 'Activation', 'Progress',
]);

export class NotCompilable extends Error {}

type TSource = Record<string, unknown>;
type TField = { key: string; write: (source: TSource, out: TAnswerWriter) => void };

/**
 * Compiles a validated selection on a runtime type. Refuses (NotCompilable) what would need the
 * executor: directives, arguments, types outside the runtime answer.
 */
export function compileSelection(
  type: GraphQLObjectType, selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): TSerialize {
  if (!RUNTIME_TYPES.has(type.name)) throw new NotCompilable(`${type.name} is not a runtime type`);
  const fields = collectFields(type, selectionSet, fragments);
  const compiled: TField[] = [...fields].map(([responseKey, nodes], index) => {
    const fieldName = nodes[0].name.value;
    const prefix = `${index === 0 ? '{' : ','}${JSON.stringify(responseKey)}:`;
    if (fieldName === '__typename') {
      const name = JSON.stringify(type.name);
      return { key: responseKey, write: (_source, out) => { out.body += prefix + name; out.recipe += prefix + name; } };
    }
    const field = type.getFields()[fieldName];
    if (!field || field.args.length > 0) throw new NotCompilable(`${type.name}.${fieldName} takes arguments`);
    const coordinate = `${type.name}.${fieldName}`;
    const read = COMPUTED[coordinate] ?? ((source: TSource) => source[fieldName]);
    const merged: SelectionSetNode = { kind: Kind.SELECTION_SET, selections: nodes.flatMap((node) => node.selectionSet?.selections ?? []) };
    // A list part filtered per user (steps with show-if) is a new array of the shared items.
    const value = compileOutput(field.type, merged, fragments, SHARED_PARTS.has(coordinate));
    const write = SHARED_PARTS.has(coordinate) ? shared(value) : value;
    return {
      key: responseKey,
      write: (source, out) => {
        out.body += prefix;
        out.recipe += prefix;
        write(read(source), out);
      },
    };
  });
  return (source, out) => {
    for (const field of compiled) field.write(source as TSource, out);
    if (compiled.length === 0) { out.body += '{'; out.recipe += '{'; }
    out.body += '}';
    out.recipe += '}';
  };
}

/** The serializer of a value of an output type with its selection. */
export function compileOutput(
  type: GraphQLOutputType, selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, sharedItems = false,
): TSerialize {
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    const itemValue = compileOutput(nullable.ofType, selectionSet, fragments);
    const item = sharedItems && isObjectType(getNullableType(nullable.ofType)) ? shared(itemValue) : itemValue;
    return (value, out) => {
      if (value == null) return writeRaw(out, 'null');
      const items = value as unknown[];
      writeRaw(out, '[');
      for (let i = 0; i < items.length; i++) {
        if (i > 0) writeRaw(out, ',');
        item(items[i], out);
      }
      writeRaw(out, ']');
    };
  }
  if (isObjectType(nullable)) {
    const object = compileSelection(nullable, selectionSet, fragments);
    return (value, out) => (value == null ? writeRaw(out, 'null') : object(value, out));
  }
  if (isScalarType(nullable) && ['String', 'ID', 'Int', 'Float', 'Boolean'].includes(nullable.name)) {
    // The values are already of the scalar's type (zod-parsed content), so JSON is what graphql-js would write.
    return (value, out) => writeRaw(out, value == null ? 'null' : JSON.stringify(value));
  }
  throw new NotCompilable(`${getNamedType(type).name} is not compiled`);
}

function writeRaw(out: TAnswerWriter, text: string): void {
  out.body += text;
  out.recipe += text;
}

/** Serializes an object once per identity; the recipe carries its digest instead of its JSON. */
function shared(serialize: TSerialize): TSerialize {
  const parts = new WeakMap<object, { json: string; digest: string }>();
  return (value, out) => {
    if (value === null || typeof value !== 'object') return serialize(value, out);
    let part = parts.get(value);
    if (!part) {
      const own: TAnswerWriter = { body: '', recipe: '' };
      serialize(value, own);
      part = { json: own.body, digest: `\u0000${createHash('sha1').update(own.body).digest('base64url')}\u0000` };
      parts.set(value, part);
    }
    out.body += part.json;
    out.recipe += part.digest;
  };
}

/** GraphQL's field collection for a directive-free selection: fields in order, merged by response key. */
function collectFields(
  type: GraphQLObjectType, selectionSet: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  into = new Map<string, FieldNode[]>(),
): Map<string, FieldNode[]> {
  for (const selection of selectionSet.selections) {
    if (selection.directives?.length) throw new NotCompilable('directives are left to yoga');
    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value;
      into.set(key, [...(into.get(key) ?? []), selection]);
      continue;
    }
    const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
    if (!fragment) throw new NotCompilable('unknown fragment');
    if (fragment.typeCondition && fragment.typeCondition.name.value !== type.name) throw new NotCompilable('type conditions are left to yoga');
    if (fragment.directives?.length) throw new NotCompilable('directives are left to yoga');
    collectFields(type, fragment.selectionSet, fragments, into);
  }
  return into;
}
