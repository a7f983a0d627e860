import type { TCondition } from '@doorstep/schema';

/** The operators the visual builder offers; the raw JSON mode takes the whole language. */
export const BUILDER_OPERATORS = {
  $eq: 'is', $ne: 'is not', $gt: 'is greater than', $gte: 'is at least', $lt: 'is less than', $lte: 'is at most',
  $in: 'is one of', $nin: 'is none of', $regex: 'matches pattern', $exists: 'is set',
} as const;
export type TBuilderOperator = keyof typeof BUILDER_OPERATORS;
export type TRule = { kind: 'rule'; attribute: string; operator: TBuilderOperator; value: string };
export type TGroup = { kind: 'group'; combinator: '$and' | '$or'; children: Array<TRule | TGroup> };

export const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Typed text to a value: numbers and true/false as such, lists split on commas for one-of. */
export function parseValue(operator: TBuilderOperator, text: string): unknown {
  const scalar = (raw: string): unknown => {
    const trimmed = raw.trim();
    if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
    if (trimmed !== '' && !Number.isNaN(Number(trimmed))) return Number(trimmed);
    return trimmed;
  };
  if (operator === '$in' || operator === '$nin') return text.split(',').map(scalar).filter((v) => v !== '');
  if (operator === '$exists') return text.trim() !== 'false';
  if (operator === '$regex') return text;
  return scalar(text);
}

function formatValue(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(', ') : String(value);
}

export function toCondition(group: TGroup): TCondition {
  const parts = group.children.map((child): TCondition =>
    child.kind === 'group'
      ? toCondition(child)
      : { [child.attribute]: child.operator === '$eq' ? parseValue('$eq', child.value) : { [child.operator]: parseValue(child.operator, child.value) } },
  );
  return { [group.combinator]: parts };
}

/** The builder's view of a condition, or null when it uses more than the builder can show. */
export function fromCondition(condition: unknown): TGroup | null {
  if (!isRecord(condition)) return null;
  const keys = Object.keys(condition);
  if (keys.length === 1 && (keys[0] === '$and' || keys[0] === '$or') && Array.isArray(condition[keys[0]])) {
    const children = (condition[keys[0]] as unknown[]).map((part) => fromPart(part));
    return children.every((c) => c !== null) ? { kind: 'group', combinator: keys[0] as '$and' | '$or', children: children as Array<TRule | TGroup> } : null;
  }
  const rules = keys.map((key) => fromPart({ [key]: condition[key] }));
  return rules.every((r) => r !== null) ? { kind: 'group', combinator: '$and', children: rules as TRule[] } : null;
}

function fromPart(part: unknown): TRule | TGroup | null {
  if (!isRecord(part)) return null;
  const keys = Object.keys(part);
  if (keys.length !== 1) return fromCondition(part);
  const [key] = keys;
  if (key.startsWith('$')) return fromCondition(part);
  const value = part[key];
  if (!isRecord(value)) return Array.isArray(value) || value === null ? null : { kind: 'rule', attribute: key, operator: '$eq', value: formatValue(value) };
  const ops = Object.keys(value);
  if (ops.length !== 1 || !(ops[0] in BUILDER_OPERATORS)) return null;
  return { kind: 'rule', attribute: key, operator: ops[0] as TBuilderOperator, value: formatValue(value[ops[0]]) };
}
