import { compileSafeRegex } from './safe-regex.ts';

/** A MongoDB-style condition in GrowthBook's dialect. */
export type TCondition = { [key: string]: unknown };
export type TSavedGroups = Record<string, unknown[]>;
export type TAttributes = Record<string, unknown>;

export const CONDITION_OPERATORS = [
  '$eq', '$ne', '$lt', '$lte', '$gt', '$gte', '$veq', '$vne', '$vgt', '$vgte', '$vlt', '$vlte',
  '$exists', '$in', '$nin', '$ini', '$nini', '$inGroup', '$notInGroup', '$not', '$size',
  '$elemMatch', '$all', '$alli', '$regex', '$regexi', '$type',
] as const;
export const LOGICAL_OPERATORS = ['$and', '$or', '$nor', '$not'] as const;

export function evalCondition(attributes: unknown, condition: TCondition, savedGroups: TSavedGroups = {}): boolean {
  for (const [key, value] of Object.entries(condition)) {
    switch (key) {
      case '$or':
        if (!evalOr(attributes, value as TCondition[], savedGroups)) return false;
        break;
      case '$nor':
        if (evalOr(attributes, value as TCondition[], savedGroups)) return false;
        break;
      case '$and':
        if (!evalAnd(attributes, value as TCondition[], savedGroups)) return false;
        break;
      case '$not':
        if (evalCondition(attributes, value as TCondition, savedGroups)) return false;
        break;
      default:
        if (!evalConditionValue(value, getPath(attributes, key), savedGroups)) return false;
    }
  }
  return true;
}

function evalOr(attributes: unknown, conditions: TCondition[], savedGroups: TSavedGroups): boolean {
  if (!Array.isArray(conditions) || conditions.length === 0) return true;
  return conditions.some((c) => evalCondition(attributes, c, savedGroups));
}

function evalAnd(attributes: unknown, conditions: TCondition[], savedGroups: TSavedGroups): boolean {
  if (!Array.isArray(conditions)) return true;
  return conditions.every((c) => evalCondition(attributes, c, savedGroups));
}

export function getPath(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    if (current !== null && typeof current === 'object' && part in (current as object)) {
      current = (current as Record<string, unknown>)[part];
    } else {
      return null;
    }
  }
  return current;
}

/**
 * An attribute as a string condition compares it (GrowthBook: `String(value)`); undefined when it
 * cannot be made one (an object whose toString is not a function), which then equals no condition.
 */
export function attributeText(value: unknown): string | undefined {
  try {
    return String(value);
  } catch {
    return undefined;
  }
}

export function isOperatorObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

function evalConditionValue(condition: unknown, value: unknown, savedGroups: TSavedGroups): boolean {
  if (typeof condition === 'string') return attributeText(value) === condition;
  if (typeof condition === 'number') return Number(value) === condition;
  if (typeof condition === 'boolean') return value !== null && value !== undefined && Boolean(value) === condition;
  if (condition === null) return value === null;
  if (Array.isArray(condition) || !isOperatorObject(condition)) {
    return JSON.stringify(value) === JSON.stringify(condition);
  }
  for (const [operator, expected] of Object.entries(condition)) {
    if (!evalOperator(operator, value, expected, savedGroups)) return false;
  }
  return true;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const t = typeof value;
  return ['string', 'number', 'boolean', 'object', 'undefined'].includes(t) ? t : 'unknown';
}

function elemMatch(actual: unknown, expected: unknown, savedGroups: TSavedGroups): boolean {
  if (!Array.isArray(actual)) return false;
  const check = isOperatorObject(expected)
    ? (item: unknown) => evalConditionValue(expected, item, savedGroups)
    : (item: unknown) => evalCondition(item, expected as TCondition, savedGroups);
  return actual.some(check);
}

function foldCase(value: unknown): unknown {
  return typeof value === 'string' ? value.toLowerCase() : value;
}

function isIn(actual: unknown, expected: unknown[], caseInsensitive: boolean): boolean {
  const normalize = caseInsensitive ? foldCase : (v: unknown) => v;
  const pool = caseInsensitive ? expected.map(foldCase) : expected;
  if (Array.isArray(actual)) return actual.some((item) => pool.includes(normalize(item)));
  return pool.includes(normalize(actual));
}

function containsAll(actual: unknown, expected: unknown, caseInsensitive: boolean, savedGroups: TSavedGroups): boolean {
  if (!Array.isArray(actual) || !Array.isArray(expected)) return false;
  return expected.every((wanted) =>
    actual.some((item) =>
      caseInsensitive ? foldCase(item) === foldCase(wanted) : evalConditionValue(wanted, item, savedGroups),
    ),
  );
}

/** Pads numeric parts so that plain string comparison orders semantic versions, prereleases first. */
export function paddedVersionString(input: unknown): string {
  const raw = typeof input === 'number' ? String(input) : input;
  const text = raw && typeof raw === 'string' ? raw : '0';
  const parts = text.replace(/(^v|\+.*$)/g, '').split(/[-.]/);
  if (parts.length === 3) parts.push('~');
  return parts.map((p) => (/^[0-9]+$/.test(p) ? p.padStart(5, ' ') : p)).join('-');
}

function compare(operator: string, actual: unknown, expected: unknown): boolean {
  // Loose JS comparison is the GrowthBook contract: "8" > 5 holds, undefined > x never does.
  const a = actual as number;
  const e = expected as number;
  switch (operator) {
    case '$lt': return a < e;
    case '$lte': return a <= e;
    case '$gt': return a > e;
    default: return a >= e;
  }
}

function evalOperator(operator: string, actual: unknown, expected: unknown, savedGroups: TSavedGroups): boolean {
  switch (operator) {
    case '$veq': return paddedVersionString(actual) === paddedVersionString(expected);
    case '$vne': return paddedVersionString(actual) !== paddedVersionString(expected);
    case '$vgt': return paddedVersionString(actual) > paddedVersionString(expected);
    case '$vgte': return paddedVersionString(actual) >= paddedVersionString(expected);
    case '$vlt': return paddedVersionString(actual) < paddedVersionString(expected);
    case '$vlte': return paddedVersionString(actual) <= paddedVersionString(expected);
    case '$eq': return actual === expected;
    case '$ne': return actual !== expected;
    case '$lt':
    case '$lte':
    case '$gt':
    case '$gte':
      return compare(operator, actual, expected);
    case '$exists': return expected ? actual !== null && actual !== undefined : actual === null || actual === undefined;
    case '$in': return Array.isArray(expected) && isIn(actual, expected, false);
    case '$nin': return Array.isArray(expected) && !isIn(actual, expected, false);
    case '$ini': return Array.isArray(expected) && isIn(actual, expected, true);
    case '$nini': return Array.isArray(expected) && !isIn(actual, expected, true);
    case '$inGroup': return isIn(actual, savedGroups[expected as string] ?? [], false);
    case '$notInGroup': return !isIn(actual, savedGroups[expected as string] ?? [], false);
    case '$not': return !evalConditionValue(expected, actual, savedGroups);
    case '$size': return Array.isArray(actual) && evalConditionValue(expected, actual.length, savedGroups);
    case '$elemMatch': return elemMatch(actual, expected, savedGroups);
    case '$all': return containsAll(actual, expected, false, savedGroups);
    case '$alli': return containsAll(actual, expected, true, savedGroups);
    case '$regex':
    case '$regexi': {
      if (typeof expected !== 'string') return false;
      const regex = compileSafeRegex(expected, operator === '$regexi');
      return regex !== null && regex.test(String(actual));
    }
    case '$type': return typeOf(actual) === expected;
    default: return false;
  }
}
