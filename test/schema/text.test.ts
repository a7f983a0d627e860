import { describe, expect, it } from 'vitest';
import { ZCondition, ZFlowContent, ZMarkdown, ZTrackEvent, storableString, unstorableJson } from '@doorstep/schema';

const minimal = () => ({ welcome: { title: 'Hi' }, steps: [{ id: 'a', kind: 'info', title: 'A' }], activation: { event: 'done' } });
const issuesOf = (result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
  result.error?.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) ?? [];

describe('storable text', () => {
  it('should refuse the NUL character with a message that names it', () => {
    expect(issuesOf(storableString().safeParse('a\u0000b'))).toEqual([{ path: '', message: 'Text cannot contain the NUL character (U+0000)' }]);
  });

  it.each([['a high surrogate alone', 'a\ud800b', 'D800'], ['a low surrogate alone', '\udc00', 'DC00'], ['a pair in the wrong order', '\ude00\ud83d', 'DE00']])(
    'should refuse %s as not valid Unicode', (_name, text, code) => {
      expect(issuesOf(storableString().safeParse(text))).toEqual([{ path: '', message: `Text cannot contain an unpaired surrogate (U+${code}), which is not valid Unicode` }]);
    },
  );

  it('should refuse text that starts with U+FEFF, which PGlite drops when it reads the text back, and keep one inside text', () => {
    expect(issuesOf(storableString().safeParse('\ufeffuser-1'))).toEqual([{ path: '', message: 'Text cannot start with U+FEFF (a byte order mark), which the embedded database does not read back' }]);
    expect(storableString().safeParse('user\ufeff1').success).toBe(true);
  });

  it('should accept emoji and other text outside the basic plane', () => {
    expect(storableString().safeParse('Bienvenue 🎉 𝄞 文字').success).toBe(true);
  });

  it('should refuse such text wherever flow content holds text, at its path', () => {
    const content = { ...minimal(), welcome: { title: 'Hi', primaryCta: { label: 'Go\u0000' } }, questions: [{ id: 'q', prompt: 'Q', kind: 'single', attribute: 'q', options: [{ value: 'a\ud800', label: 'A' }, { value: 'b', label: 'B' }] }] };
    expect(issuesOf(ZFlowContent.safeParse(content)).map((i) => i.path)).toEqual(['welcome.primaryCta.label', 'questions.0.options.0.value']);
    expect(ZMarkdown.safeParse('**bold**\u0000').success).toBe(false);
  });

  it('should refuse such text in condition values and names', () => {
    expect(issuesOf(ZCondition.safeParse({ plan: { $in: ['pro', 'x\u0000'] } }))).toEqual([{ path: 'plan.$in.1', message: 'Text cannot contain the NUL character (U+0000)' }]);
    expect(issuesOf(ZCondition.safeParse({ 'pl\u0000an': 'pro' }))).toEqual([{ path: '', message: 'Names cannot contain the NUL character (U+0000)' }]);
  });

  it('should refuse such text anywhere in event properties, at its path', () => {
    const event = { id: 'e', userId: 'u', name: 'report_opened', properties: { nested: { list: ['ok', 'x\ud800'] } } };
    expect(issuesOf(ZTrackEvent.safeParse(event))).toEqual([{ path: 'properties.nested.list.1', message: 'Text cannot contain an unpaired surrogate (U+D800), which is not valid Unicode' }]);
  });

  it('should find nothing to refuse in ordinary JSON', () => {
    expect(unstorableJson({ a: [1, true, null, 'text', { b: 'é' }] })).toBeNull();
  });
});
