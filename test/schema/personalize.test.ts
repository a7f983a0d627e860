import { describe, expect, it } from 'vitest';
import {
  conditionAttributes, contentVariables, localizeContent, parseTemplate, personalizeContent, personalizeText, renderOnboardingEmail, resolveOnboarding,
  variableWarnings, ZFlowContent, type TFlowContentInput,
} from '@doorstep/schema';

const SCRIPT = '<script>alert(1)</script>';

const content = (extra: Partial<TFlowContentInput> = {}) => ZFlowContent.parse({
  welcome: { title: 'Welcome, {{firstName|there}}', body: 'Hello **{{ firstName }}** from {{company.name | your team}}.' },
  steps: [{ id: 'a', kind: 'info', title: 'Set up {{company.name}}', cta: { label: 'Open {{plan|your}} plan', url: '/workspaces/{{workspace}}/setup' } }],
  activation: { event: 'done' },
  ...extra,
});
const resolve = (attributes: Record<string, unknown>, c = content(), locale: string | null = null) =>
  resolveOnboarding({ flows: [{ key: 'f', name: 'F', priority: 0, audience: null, version: 1, content: c }], savedGroups: {} }, { id: 'u-1', attributes }, { locale })!;

describe('parsing variables', () => {
  it('should read names, attribute paths and fallbacks, ignoring spaces around them', () => {
    expect(parseTemplate('Hi {{ firstName }}, {{company.name|your team}} and {{ plan | free trial }}!')).toEqual([
      'Hi ', { name: 'firstName', fallback: null }, ', ', { name: 'company.name', fallback: 'your team' }, ' and ', { name: 'plan', fallback: 'free trial' }, '!',
    ]);
  });

  it('should keep text without variables as it is', () => {
    expect(parseTemplate('No variables here')).toBeNull();
    expect(personalizeText('Plain {text}', { firstName: 'Anna' })).toBe('Plain {text}');
  });

  it('should leave a {{…}} that is not a variable as written', () => {
    expect(personalizeText('Hi {{first name}} {{firstName', { firstName: 'Anna' })).toBe('Hi {{first name}} {{firstName');
    expect(personalizeText('{{ 1st }} and {{firstName}}', { firstName: 'Anna' })).toBe('{{ 1st }} and Anna');
  });
});

describe('rendering variables', () => {
  it('should render strings, numbers and booleans, and nested attributes', () => {
    const attributes = { name: 'Anna', seats: 12, trial: true, company: { name: 'Acme' } };
    expect(personalizeText('{{name}} {{seats}} {{trial}} {{company.name}}', attributes)).toBe('Anna 12 true Acme');
  });

  it('should show the fallback for missing, null, blank, list and object values, and nothing without a fallback', () => {
    const attributes = { none: null, blank: '  ', list: ['a'], object: { a: 1 } };
    for (const name of ['missing', 'none', 'blank', 'list', 'object', 'constructor', 'toString', 'object.a.b']) {
      expect(personalizeText(`Hi {{${name}|there}}`, attributes)).toBe('Hi there');
      expect(personalizeText(`Hi {{${name}}}`, attributes)).toBe('Hi ');
    }
  });

  it('should render every user-visible text of the served onboarding', () => {
    const served = resolve({ firstName: 'Anna', company: { name: 'Acme' }, plan: 'Pro', workspace: 'w1' }, content({
      questions: [{ id: 'q', prompt: 'What does {{company.name}} do?', kind: 'single', attribute: 'industry', options: [{ value: 'x', label: '{{company.name}} sells' }, { value: 'y', label: 'Other' }] }],
      checklist: { title: '{{firstName}}’s list', items: [{ id: 'i', label: 'Invite {{company.name}}', completionEvent: 'invited' }] },
    }));
    expect(served.welcome.title).toBe('Welcome, Anna');
    expect(served.welcome.bodyHtml).toBe('<p>Hello <strong>Anna</strong> from Acme.</p>\n');
    expect(served.steps[0]).toMatchObject({ title: 'Set up Acme', cta: { label: 'Open Pro plan', url: '/workspaces/w1/setup' } });
    expect(served.questions[0].prompt).toBe('What does Acme do?');
    expect(served.questions[0].options.map((o) => o.label)).toEqual(['Acme sells', 'Other']);
    expect(served.checklist).toMatchObject({ title: 'Anna’s list', items: [{ label: 'Invite Acme' }] });
  });

  it('should fall back for a user without the attributes', () => {
    const served = resolve({});
    expect(served.welcome.title).toBe('Welcome, there');
    // Emphasis around nothing is no emphasis: the studio asks for a fallback where there is none.
    expect(served.welcome.bodyHtml).toBe('<p>Hello **** from your team.</p>\n');
    expect(served.steps[0].title).toBe('Set up ');
    expect(served.steps[0].cta!.url).toBe('/workspaces//setup');
  });

  it('should see the user id as `id`, as conditions do', () => {
    expect(resolve({}, content({ welcome: { title: 'You are {{id}}' } })).welcome.title).toBe('You are u-1');
  });

  it('should render translated texts with the same variables', () => {
    const translated = content({ translations: { fr: { welcome: { title: 'Bienvenue, {{firstName|vous}}', body: 'Bonjour {{firstName}}' } } } });
    expect(resolve({ firstName: 'Anna' }, translated, 'fr').welcome).toMatchObject({ title: 'Bienvenue, Anna', bodyHtml: '<p>Bonjour Anna</p>\n' });
    expect(resolve({}, translated, 'fr-CA').welcome.title).toBe('Bienvenue, vous');
  });
});

describe('escaping values', () => {
  it('should keep HTML in an attribute as text in titles and labels', () => {
    const served = resolve({ firstName: SCRIPT, company: { name: SCRIPT } });
    expect(served.welcome.title).toBe(`Welcome, ${SCRIPT}`);
    expect(served.steps[0].title).toBe(`Set up ${SCRIPT}`);
  });

  it('should escape HTML in an attribute in rendered bodies', () => {
    const html = resolve({ firstName: SCRIPT }).welcome.bodyHtml;
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script');
  });

  it('should not let an attribute make links, images, emphasis, headings or paragraphs in bodies', () => {
    const value = '[click](https://evil.example) ![x](https://evil.example/x.png) *bold* _it_ `code`\n\n# Heading\n- item';
    const html = resolve({ firstName: value }).welcome.bodyHtml;
    expect(html).not.toMatch(/<a |<img|<em>|<code>|<h1>|<li>/);
    expect(html.match(/<p>/g)).toHaveLength(1);
    expect(html).toContain('[click](https://evil.example)');
  });

  it('should not let an attribute put a script link into a body link', () => {
    const c = content({ welcome: { title: 'Hi', body: '[Open]({{target}})' } });
    expect(resolve({ target: 'javascript:alert(1)' }, c).welcome.bodyHtml).not.toContain('href="javascript');
  });

  it('should URL-encode values in call-to-action URLs, so they cannot leave their component', () => {
    expect(resolve({ workspace: '../admin?x=1#y' }).steps[0].cta!.url).toBe('/workspaces/..%2Fadmin%3Fx%3D1%23y/setup');
    expect(resolve({ workspace: '/evil.example' }).steps[0].cta!.url).toBe('/workspaces/%2Fevil.example/setup');
  });
});

describe('personalizing without variables', () => {
  it('should return content without variables as it is, not re-rendered per user', () => {
    const localized = localizeContent(content({ welcome: { title: 'Hello', body: 'Plain' }, steps: [{ id: 'a', kind: 'info', title: 'A' }] }));
    expect(personalizeContent(localized, { firstName: 'Anna' })).toBe(localized);
  });

  it('should leave texts without variables of content that has some unchanged', () => {
    const localized = localizeContent(content({ steps: [{ id: 'a', kind: 'info', title: 'A', body: 'Static **body**' }] }));
    const personal = personalizeContent(localized, { firstName: 'Anna' });
    expect(personal.steps[0].bodyHtml).toBe(localized.steps[0].bodyHtml);
    expect(personal.welcome.title).toBe('Welcome, Anna');
  });
});

describe('onboarding emails', () => {
  const withEmail = content({
    emails: [{ id: 'day-1', trigger: 'signed_up', delayHours: 24, subject: '{{firstName|Hi}}, your setup', body: 'Hello **{{firstName|there}}**, {{company.name}} is ready.' }],
    translations: { fr: { emails: { 'day-1': { subject: '{{firstName|Bonjour}}, votre installation' } } } },
  });

  it('should render the subject, the text part and the HTML part', () => {
    expect(renderOnboardingEmail(withEmail, 'day-1', { id: 'u', attributes: { firstName: 'Anna', company: { name: 'Acme' } } })).toEqual({
      locale: 'en', subject: 'Anna, your setup', text: 'Hello **Anna**, Acme is ready.', html: '<p>Hello <strong>Anna</strong>, Acme is ready.</p>\n',
    });
  });

  it('should fall back and escape in emails, and use the translation of the locale', () => {
    const email = renderOnboardingEmail(withEmail, 'day-1', { id: 'u', attributes: { company: { name: SCRIPT } } }, 'fr')!;
    expect(email.subject).toBe('Bonjour, votre installation');
    expect(email.html).toContain('Hello <strong>there</strong>, &lt;script&gt;alert(1)&lt;/script&gt; is ready.');
    expect(renderOnboardingEmail(withEmail, 'no-such-email', { id: 'u', attributes: {} })).toBeNull();
  });
});

describe('authoring checks', () => {
  it('should list the variables a content uses with the path of their field, translations included', () => {
    const c = content({ translations: { fr: { steps: { a: { title: 'Pour {{team}}' } } } } });
    expect(contentVariables(c).uses.map((u) => `${u.path} ${u.name}`)).toEqual([
      'welcome.title firstName', 'welcome.body firstName', 'welcome.body company.name', 'steps.0.title company.name', 'steps.0.cta.label plan',
      'steps.0.cta.url workspace', 'translations.fr.steps.a.title team',
    ]);
  });

  it('should name the attributes a condition mentions, through logical operators', () => {
    expect([...conditionAttributes({ plan: 'pro', $or: [{ 'company.size': { $gt: 10 } }, { $not: { role: 'dev' } }], tags: { $elemMatch: { x: 1 } } })].sort())
      .toEqual(['company.size', 'plan', 'role', 'tags']);
  });

  it('should warn about a variable nothing provides, saying what users will see', () => {
    expect(variableWarnings(content())).toEqual([
      { path: 'welcome.title', message: 'Nothing provides {{firstName}}: users will see the fallback “there”.' },
      { path: 'welcome.body', message: 'Nothing provides {{firstName}}: users will see nothing here (add a fallback: {{firstName|…}}).' },
      { path: 'welcome.body', message: 'Nothing provides {{company.name}}: users will see the fallback “your team”.' },
      { path: 'steps.0.title', message: 'Nothing provides {{company.name}}: users will see nothing here (add a fallback: {{company.name|…}}).' },
      { path: 'steps.0.cta.label', message: 'Nothing provides {{plan}}: users will see the fallback “your”.' },
      { path: 'steps.0.cta.url', message: 'Nothing provides {{workspace}}: users will see nothing here (add a fallback: {{workspace|…}}).' },
    ]);
  });

  it('should not warn about variables a question, a condition, the sample user or the id provides', () => {
    const c = content({
      welcome: { title: '{{id}} {{firstName}}' },
      steps: [{ id: 'a', kind: 'questions', title: '{{role}} {{plan}} {{company.name}} {{seen}}', questionIds: ['q'], showIf: { seen: true } }],
      questions: [{ id: 'q', prompt: 'Role?', kind: 'text', attribute: 'role' }],
    });
    expect(variableWarnings(c, { conditions: [{ $or: [{ plan: 'pro' }] }], sampleAttributes: { firstName: 'Anna', company: { name: 'Acme' } } })).toEqual([]);
  });

  it('should warn about a {{…}} that is not a variable', () => {
    expect(variableWarnings(content({ welcome: { title: 'Hi {{first name}}' } }), { sampleAttributes: { company: { name: 'A' }, plan: 'p', workspace: 'w', firstName: 'A' } })).toEqual([
      { path: 'welcome.title', message: '“{{first name}}” is not a variable, so users will see it as written. Write {{attribute}} or {{attribute|fallback}}.' },
    ]);
  });
});
