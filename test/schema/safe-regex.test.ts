import { describe, expect, it } from 'vitest';
import { compileSafeRegex, countedRepetitions, MAX_REGEX_REPETITIONS } from '../../schema/src/safe-regex.ts';
import { ZCondition } from '../../schema/src/condition-schema.ts';

describe('safe regular expressions', () => {
  it('should add up the repetitions a pattern counts, not escaped braces', () => {
    expect(countedRepetitions('^a{3}b{2,}c{1,40}$')).toBe(45);
    expect(countedRepetitions('\\{500\\}x{2}')).toBe(2);
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
