import { RE2JS } from 're2js';

/** Longest pattern a condition may carry; RE2 runs in linear time, the bound keeps compilation cheap. */
export const MAX_REGEX_LENGTH = 256;
const MAX_CACHED = 500;
/**
 * Most states counted repetition may add to a pattern (see countedRepetitions). RE2 unrolls counted
 * repetition into program states, and compiling and matching cost grows with them: `.{0,1000}.{0,1000}`
 * took 140 ms and 3 MB to compile, and three `{0,100}` classes 23 ms to match 500 characters. At
 * 100, patterns compile in a few milliseconds and match an attribute (at most 1,000 characters) in a few more.
 */
export const MAX_REGEX_REPETITIONS = 100;

/**
 * How many states counted repetition adds to a pattern once RE2 has unrolled it: `x{0,100}` adds 99,
 * `(ab){3}` adds 4, and nesting multiplies (`(.{0,30}){0,30}` adds 899). Read token by token, so that
 * an escaped character (a backslash and what follows) and braces inside a class add nothing.
 */
export function countedRepetitions(pattern: string): number {
  // Each open group's size so far (atoms, with their repetitions unrolled); the last one is the pattern.
  const sizes = [0];
  let lastAtom = 0;
  let atoms = 0;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '(') {
      sizes.push(0);
      continue;
    }
    if (char === ')' && sizes.length > 1) {
      lastAtom = sizes.pop()!;
      sizes[sizes.length - 1] += lastAtom;
      continue;
    }
    const count = char === '{' ? /^\{(\d+)(?:,(\d*))?\}/.exec(pattern.slice(i, i + 24)) : null;
    if (count) {
      const times = Number(count[2] || count[1]);
      sizes[sizes.length - 1] += lastAtom * (times - 1);
      lastAtom *= times;
      i += count[0].length - 1;
      continue;
    }
    if (char === '\\') i++;
    else if (char === '[') i = endOfClass(pattern, i);
    else if ('|*+?^$'.includes(char)) continue;
    lastAtom = 1;
    atoms++;
    sizes[sizes.length - 1] += 1;
  }
  return Math.max(0, sizes[0] - atoms);
}

/** The index of the ] closing the class opened at `start` (a ] right after [ or [^ is a literal). */
function endOfClass(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i;
  }
  return pattern.length;
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
