import { describe, expect, it } from 'vitest';
import { isSafeCtaUrl, renderMarkdown, toValidationIssues, ZFlowContent, ZMarkdown } from '@doorstep/schema';

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

describe('call to action URLs', () => {
  it.each([
    ['an absolute https URL', 'https://lumen.example/demo?from=onboarding#top'],
    ['an absolute http URL', 'http://localhost:3001/settings'],
    ['a root-relative path', '/settings/api-keys'],
    ['a path with a variable, filled in or not', '/workspaces/{{workspace}}/setup'],
    ['a host with a fallback', 'https://{{region|eu}}.lumen.example/'],
  ])('should accept %s', (_name, url) => {
    expect(isSafeCtaUrl(url)).toBe(true);
  });

  it.each([
    ['a protocol-relative URL', '//evil.example/x'],
    ['a backslash that browsers read as a slash', '/\\evil.example/x'],
    ['a script URL', 'javascript:alert(1)'],
    ['a script URL in capitals', 'JavaScript:alert(1)'],
    ['a data URL', 'data:text/html,<script>alert(1)</script>'],
    ['a mailto URL', 'mailto:sales@lumen.example'],
    ['a tab that browsers drop from a path', '/\t/evil.example'],
    ['an http URL without a host', 'https:///x'],
    ['a relative path without the slash', 'settings'],
    ['a variable that is empty without its fallback', '/{{team}}/evil.example'],
    ['a fallback that leaves the site', '/{{team|/evil.example}}'],
    ['a variable as the scheme', '{{scheme|javascript}}:alert(1)'],
  ])('should refuse %s', (_name, url) => {
    expect(isSafeCtaUrl(url)).toBe(false);
  });

  it('should report an unsafe call to action at its path with what to use instead', () => {
    const content = { ...minimal(), steps: [{ id: 'one', kind: 'info', title: 'One', cta: { label: 'Go', url: '//evil.example/x' } }] };
    expect(issuesOf(content)).toEqual([{ path: 'steps.0.cta.url', message: 'Use an absolute http(s) URL, or a path on your site starting with a single "/"' }]);
  });
});

describe('safe markdown', () => {
  it.each([
    ['raw HTML', 'Hello <img src=x onerror=alert(1)>'],
    ['a script link', '[click](javascript:alert(1))'],
    ['a data link with spaces', '[x]( data:text/html;base64,AAAA)'],
    ['a script reference link', '[x]\n\n[x]: javascript:alert(1)'],
    ['a script link with an entity-encoded scheme', '[x](jav&#x61;script:alert(1))'],
    ['a script link with a decimal entity', '[x](&#106;avascript:alert(1))'],
    ['a script link with a named entity for the colon', '[x](javascript&colon;alert(1))'],
    ['a script autolink', '<javascript:alert(1)>'],
    ['a data image', '![x](data:image/svg+xml;base64,AAAA)'],
    ['a link to another scheme', '[x](ms-settings:privacy)'],
  ])('should reject %s', (_name, text) => {
    expect(ZMarkdown.safeParse(text).success).toBe(false);
  });

  it('should accept ordinary markdown with http, mailto and relative links', () => {
    expect(ZMarkdown.safeParse('**Bold**, `code`, [docs](https://x.example), [mail](mailto:a@b.c), [here](/settings)').success).toBe(true);
  });

  it('should render links with entity-encoded schemes as plain text even for content that skipped validation', () => {
    const html = renderMarkdown('[a](jav&#x61;script:alert(1)) [b](data:text/html,x) ![c](data:image/png;base64,AAAA) [ok](https://x.example)');
    expect(html).not.toMatch(/href="(?!https:)|src=/);
    expect(html).toContain('<a href="https://x.example">ok</a>');
  });

  it('should escape HTML and drop script links even for content that skipped validation', () => {
    const html = renderMarkdown('<script>alert(1)</script> [x](javascript:alert(1)) **ok**');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toMatch(/href="javascript:/);
    expect(html).toContain('<strong>ok</strong>');
  });
});
