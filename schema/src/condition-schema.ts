import { z } from 'zod';
import { CONDITION_OPERATORS, LOGICAL_OPERATORS, type TCondition } from './condition.ts';
import { compileSafeRegex, countedRepetitions, MAX_REGEX_LENGTH, MAX_REGEX_REPETITIONS } from './safe-regex.ts';
import { unstorableText } from './text.ts';

const MAX_DEPTH = 8;
const MAX_NODES = 200;
const KNOWN_OPERATORS = new Set<string>([...CONDITION_OPERATORS, ...LOGICAL_OPERATORS]);
// The evaluator knows GrowthBook's saved-group operators, but Doorstep has no saved groups to
// author, so a stored condition using them would silently match nobody ($inGroup) or everyone
// ($notInGroup). They are refused until saved groups exist.
const UNSUPPORTED_OPERATORS = new Map([
  ['$inGroup', 'Saved groups are not available in Doorstep; list the values with $in instead'],
  ['$notInGroup', 'Saved groups are not available in Doorstep; list the values with $nin instead'],
]);

type TIssue = { path: (string | number)[]; message: string };

/**
 * Authoring-time checks the evaluator does not make: unknown operators, patterns RE2 rejects,
 * and bounds on size and depth, so a stored condition is always cheap to evaluate.
 */
export function checkCondition(condition: unknown): TIssue[] {
  const issues: TIssue[] = [];
  let nodes = 0;

  const visitValue = (value: unknown, path: (string | number)[], depth: number): void => {
    nodes++;
    if (depth > MAX_DEPTH) {
      issues.push({ path, message: `Conditions may nest at most ${MAX_DEPTH} levels` });
      return;
    }
    if (typeof value === 'string') {
      const problem = unstorableText(value);
      if (problem) issues.push({ path, message: problem });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => visitValue(item, [...path, i], depth + 1));
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value)) {
      const badName = unstorableText(key, 'Names');
      if (badName) {
        issues.push({ path, message: badName });
        continue;
      }
      const unsupported = UNSUPPORTED_OPERATORS.get(key);
      if (unsupported) {
        issues.push({ path: [...path, key], message: unsupported });
        continue;
      }
      if (key.startsWith('$') && key !== '$groups' && !KNOWN_OPERATORS.has(key)) {
        issues.push({ path: [...path, key], message: `Unknown operator "${key}"` });
        continue;
      }
      if (key === '$regex' || key === '$regexi') {
        if (typeof inner !== 'string') issues.push({ path: [...path, key], message: 'A pattern must be a string' });
        else if (inner.length > MAX_REGEX_LENGTH) issues.push({ path: [...path, key], message: `Patterns are limited to ${MAX_REGEX_LENGTH} characters` });
        else if (countedRepetitions(inner) > MAX_REGEX_REPETITIONS) {
          issues.push({ path: [...path, key], message: `Counted repetitions ({n,m}) may add up to at most ${MAX_REGEX_REPETITIONS} in a pattern` });
        } else if (!compileSafeRegex(inner, key === '$regexi')) issues.push({ path: [...path, key], message: 'Invalid pattern (RE2 syntax: no lookaround or backreferences)' });
      }
      if ((key === '$and' || key === '$or' || key === '$nor') && !Array.isArray(inner)) {
        issues.push({ path: [...path, key], message: `${key} takes a list of conditions` });
      }
      if ((key === '$in' || key === '$nin' || key === '$ini' || key === '$nini' || key === '$all' || key === '$alli') && !Array.isArray(inner)) {
        issues.push({ path: [...path, key], message: `${key} takes a list of values` });
      }
      visitValue(inner, [...path, key], depth + 1);
    }
  };

  visitValue(condition, [], 0);
  if (nodes > MAX_NODES) issues.push({ path: [], message: `Conditions are limited to ${MAX_NODES} parts` });
  return issues;
}

export const ZCondition = z
  .record(z.string().max(128), z.unknown())
  .superRefine((condition, ctx) => {
    for (const issue of checkCondition(condition)) ctx.addIssue({ code: 'custom', ...issue });
  })
  .transform((c) => c as TCondition);

export const ZSavedGroups = z.record(z.string().max(64), z.array(z.unknown()).max(10_000));
