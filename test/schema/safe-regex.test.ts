import { describe, expect, it } from 'vitest';
import { compileSafeRegex, countedRepetitions, MAX_REGEX_REPETITIONS } from '../../schema/src/safe-regex.ts';
import { ZCondition } from '../../schema/src/condition-schema.ts';

describe('safe regular expressions', () => {
  it('should add up the states repetitions unroll, not escaped braces or braces in a class', () => {
    expect(countedRepetitions('^a{3}b{2,}c{1,40}$')).toBe(42);
    expect(countedRepetitions('\\{500\\}x{2}')).toBe(1);
    expect(countedRepetitions('[{]{3}[a{500}]')).toBe(2);
    expect(countedRepetitions('(ab){3}')).toBe(4);
  });

  it('should multiply nested repetitions and count an escaped backslash as the atom it is', () => {
    expect(countedRepetitions('(.{0,30}){0,30}')).toBe(899);
    expect(countedRepetitions('\\\\{1000}')).toBe(999);
    expect(compileSafeRegex('\\\\{1000}\\\\{1000}\\\\{1000}', false)).toBeNull();
  });

  it('should refuse to compile a pattern over the repetition budget, which would cost seconds in all', () => {
    expect(compileSafeRegex('.{0,1000}.{0,1000}', false)).toBeNull();
    expect(compileSafeRegex(`.{0,${MAX_REGEX_REPETITIONS}}`, false)).not.toBeNull();
  });

  it('should tell the author why such a pattern is refused', () => {
    const result = ZCondition.safeParse({ email: { $regex: '[^a]{0,60}[^b]{0,60}x' } });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0].message).toBe(`Counted repetitions ({n,m}) may add up to at most ${MAX_REGEX_REPETITIONS} in a pattern`);
  });
});
