import { describe, expect, it } from 'vitest';
import { renderMarkdown, toValidationIssues, ZFlowContent, ZMarkdown } from '@doorstep/schema';

const minimal = () => ({
  welcome: { title: 'Hi' },
  steps: [{ id: 'one', kind: 'info', title: 'One' }],
  activation: { event: 'activated' },
});
const issuesOf = (value: unknown) => {
  const result = ZFlowContent.safeParse(value);
  return result.success ? [] : toValidationIssues(result.error);
};

describe('flow content model', () => {
  it('should accept minimal content and fill defaults', () => {
    const content = ZFlowContent.parse(minimal());
    expect(content).toMatchObject({ defaultLocale: 'en', questions: [], emails: [], translations: {} });
    expect(content.steps[0]).toMatchObject({ skippable: false, body: '', questionIds: [] });
  });

  it('should require between 1 and 20 steps', () => {
    expect(issuesOf({ ...minimal(), steps: [] }).map((i) => i.path)).toEqual(['steps']);
    const many = Array.from({ length: 21 }, (_, i) => ({ id: `s${i}`, kind: 'info', title: 'S' }));
    expect(issuesOf({ ...minimal(), steps: many }).map((i) => i.path)).toEqual(['steps']);
  });

  it('should reject a step that names a question that does not exist', () => {
    const content = { ...minimal(), steps: [{ id: 'q', kind: 'questions', title: 'Q', questionIds: ['ghost'] }] };
    expect(issuesOf(content)).toEqual([{ path: 'steps.0.questionIds.0', message: 'No question has id "ghost"' }]);
  });

  it('should require options on choice questions and refuse them elsewhere', () => {
    const content = {
      ...minimal(),
      questions: [
        { id: 'a', prompt: 'A?', kind: 'single', attribute: 'a', options: [{ value: 'x', label: 'X' }] },
        { id: 'b', prompt: 'B?', kind: 'text', attribute: 'b', options: [{ value: 'x', label: 'X' }] },
        { id: 'c', prompt: 'C?', kind: 'multi', attribute: 'c', options: [{ value: 'x', label: 'X' }, { value: 'x', label: 'Y' }] },
      ],
    };
    expect(issuesOf(content).map((i) => i.path)).toEqual(['questions.0.options', 'questions.1.options', 'questions.2.options.1.value']);
  });

  it('should bind answers only to well-formed attribute names', () => {
    const content = { ...minimal(), questions: [{ id: 'a', prompt: 'A?', kind: 'text', attribute: 'no spaces allowed' }] };
    expect(issuesOf(content).map((i) => i.path)).toEqual(['questions.0.attribute']);
  });

  it('should refuse unsafe URLs in calls to action and non-https media', () => {
    const content = {
      ...minimal(),
      welcome: { title: 'Hi', primaryCta: { label: 'Go', url: 'javascript:alert(1)' }, media: { kind: 'image', url: 'http://insecure.example/a.png' } },
    };
    expect(issuesOf(content).map((i) => i.path)).toEqual(['welcome.media.url', 'welcome.primaryCta.url']);
  });

  it('should refuse a translation for the default locale and malformed locales', () => {
    expect(issuesOf({ ...minimal(), translations: { en: {} } }).map((i) => i.path)).toEqual(['translations.en']);
    expect(issuesOf({ ...minimal(), translations: { 'not a locale': {} } }).map((i) => i.path)).toEqual(['translations.not a locale']);
  });
});

describe('safe markdown', () => {
  it.each([
    ['raw HTML', 'Hello <img src=x onerror=alert(1)>'],
    ['a script link', '[click](javascript:alert(1))'],
    ['a data link with spaces', '[x]( data:text/html;base64,AAAA)'],
    ['a script reference link', '[x]\n\n[x]: javascript:alert(1)'],
  ])('should reject %s', (_name, text) => {
    expect(ZMarkdown.safeParse(text).success).toBe(false);
  });

  it('should accept ordinary markdown with http, mailto and relative links', () => {
    expect(ZMarkdown.safeParse('**Bold**, `code`, [docs](https://x.example), [mail](mailto:a@b.c), [here](/settings)').success).toBe(true);
  });

  it('should escape HTML and drop script links even for content that skipped validation', () => {
    const html = renderMarkdown('<script>alert(1)</script> [x](javascript:alert(1)) **ok**');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toMatch(/href="javascript:/);
    expect(html).toContain('<strong>ok</strong>');
  });
});
