import { RE2JS } from 're2js';

/** Longest pattern a condition may carry; RE2 runs in linear time, the bound keeps compilation cheap. */
export const MAX_REGEX_LENGTH = 256;
const MAX_CACHED = 500;

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
  if (pattern.length <= MAX_REGEX_LENGTH) {
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
