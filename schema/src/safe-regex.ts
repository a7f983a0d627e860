import { RE2JS } from 're2js';

/** Longest pattern a condition may carry; RE2 runs in linear time, the bound keeps compilation cheap. */
export const MAX_REGEX_LENGTH = 256;
const MAX_CACHED = 500;
/**
 * Most repetitions a pattern may count (`{n}`, `{n,}` and `{n,m}` add n or m). RE2 unrolls counted
 * repetition into program states, and compiling and matching cost grows with them: `.{0,1000}.{0,1000}`
 * took 140 ms and 3 MB to compile, and three `{0,100}` classes 23 ms to match 500 characters. At
 * 100, patterns compile in a few milliseconds and match an attribute (at most 1,000 characters) in a few more.
 */
export const MAX_REGEX_REPETITIONS = 100;

/** The repetitions a pattern counts, as RE2 would unroll them (nesting aside, which RE2 bounds itself). */
export function countedRepetitions(pattern: string): number {
  let total = 0;
  for (const match of pattern.matchAll(/(?<!\\)\{(\d+)(?:,(\d*))?\}/g)) total += Number(match[2] || match[1]);
  return total;
}

const compiled = new Map<string, RE2JS | null>();

/**
 * Compiles with RE2 semantics (linear time, no backtracking) so an author's pattern cannot hang the
 * server. Returns null for patterns that are too long or invalid; callers treat that as "no match",
 * as GrowthBook does for an invalid regex.
 */
export function compileSafeRegex(pattern: string, caseInsensitive: boolean): RE2JS | null {
  const cacheKey = `${caseInsensitive ? 'i' : 's'}:${pattern}`;
  const hit = compiled.get(cacheKey);
  if (hit !== undefined) return hit;
  let regex: RE2JS | null = null;
  if (pattern.length <= MAX_REGEX_LENGTH && countedRepetitions(pattern) <= MAX_REGEX_REPETITIONS) {
    try {
      regex = RE2JS.compile(pattern, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
    } catch {
      regex = null;
    }
  }
  if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string);
  compiled.set(cacheKey, regex);
  return regex;
}
