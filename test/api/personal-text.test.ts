import { describe, expect, it } from 'vitest';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

const ONBOARDING = `query($user: OnboardingUserInput!, $locale: String) {
  onboarding(user: $user, locale: $locale) {
    flow { key } locale
    welcome { title body bodyHtml primaryCta { label url } secondaryCta { label url } }
    steps { id title bodyHtml }
    questions { id prompt options { value label } }
    checklist { title items { label } }
  }
}`;
const TRACK = `mutation($events: [TrackEventInput!]!) { track(events: $events) { accepted } }`;
const SCRIPT = '<script>alert(1)</script>';

describe.each(DATABASE_KINDS)('personal text in the runtime API on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  /** Publishes the demo's self-serve flow with personal texts in it. */
  async function publishPersonalFlow() {
    const { draft } = (await api.gql(ws.secretKey, '{ flow(key: "self-serve") { draft { revision content } } }')).data!.flow;
    const content = structuredClone(draft.content);
    content.welcome.title = 'Welcome, {{firstName|there}}';
    content.welcome.body = 'Hello **{{firstName|there}}** from {{company.name|your team}}.';
    content.welcome.secondaryCta.url = '/projects/{{project|sample}}';
    content.steps[0].title = 'Tell us about {{company.name|your company}}';
    content.steps[2].body = 'A dashboard for {{companySize|your}} people.';
    content.questions[0].prompt = 'What is your role, {{firstName}}?';
    content.checklist.title = '{{firstName|Your}} first ten minutes';
    content.translations.fr.welcome.title = 'Bienvenue, {{firstName|vous}}';
    const saved = await api.gql(ws.secretKey, 'mutation($c: JSON!, $r: Int!) { saveDraft(flowKey: "self-serve", revision: $r, content: $c) { __typename } }', {
      c: content, r: draft.revision,
    });
    expect(saved.data!.saveDraft.__typename).toBe('FlowDraft');
    const published = await api.gql(ws.secretKey, 'mutation { publishFlow(flowKey: "self-serve", environmentKey: "production") { __typename } }');
    expect(published.errors).toBeUndefined();
  }
  const onboarding = async (id: string, attributes: Record<string, unknown>, locale?: string) => {
    const res = await api.gql(ws.publicKey, ONBOARDING, { user: { id, attributes }, locale });
    expect(res.errors).toBeUndefined();
    return res.data!.onboarding;
  };

  it('should render variables from the user attributes in every text it serves', async () => {
    await publishPersonalFlow();
    const served = await onboarding('anna', { firstName: 'Anna', company: { name: 'Acme' }, project: 'p 1' });
    expect(served.welcome).toMatchObject({
      title: 'Welcome, Anna', body: 'Hello **Anna** from Acme.', bodyHtml: '<p>Hello <strong>Anna</strong> from Acme.</p>\n',
      secondaryCta: { url: '/projects/p%201' },
    });
    expect(served.steps[0].title).toBe('Tell us about Acme');
    expect(served.questions[0].prompt).toBe('What is your role, Anna?');
    expect(served.checklist.title).toBe('Anna first ten minutes');
  });

  it('should show the fallbacks to a user without the attributes', async () => {
    await publishPersonalFlow();
    const served = await onboarding('nobody', {});
    expect(served.welcome).toMatchObject({ title: 'Welcome, there', bodyHtml: '<p>Hello <strong>there</strong> from your team.</p>\n', secondaryCta: { url: '/projects/sample' } });
    expect(served.steps[0].title).toBe('Tell us about your company');
    expect(served.questions[0].prompt).toBe('What is your role, ?');
  });

  it('should keep a script in an attribute as text in titles and escaped in bodyHtml', async () => {
    await publishPersonalFlow();
    const served = await onboarding('mallory', { firstName: SCRIPT, company: { name: '[x](https://evil.example)' } });
    expect(served.welcome.title).toBe(`Welcome, ${SCRIPT}`);
    expect(served.welcome.bodyHtml).toBe('<p>Hello <strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong> from [x](https://evil.example).</p>\n');
  });

  it('should render an answer to a question over the attribute the app sends', async () => {
    await publishPersonalFlow();
    const track = await api.gql(ws.publicKey, TRACK, {
      events: [{ id: 'answer-1', userId: 'sized', name: 'question_answered', flowKey: 'self-serve', questionId: 'company-size', value: 42 }],
    });
    expect(track.errors).toBeUndefined();
    const served = await onboarding('sized', { companySize: 10 });
    expect(served.steps.find((s: { id: string }) => s.id === 'first-dashboard').bodyHtml).toBe('<p>A dashboard for 42 people.</p>\n');
  });

  it('should render variables in translations', async () => {
    await publishPersonalFlow();
    expect((await onboarding('anne', { firstName: 'Anne' }, 'fr-CA')).welcome.title).toBe('Bienvenue, Anne');
    expect((await onboarding('anon', {}, 'fr')).welcome.title).toBe('Bienvenue, vous');
  });

  it('should serve different users of one published version their own texts', async () => {
    await publishPersonalFlow();
    const [anna, ben] = await Promise.all([onboarding('u-anna', { firstName: 'Anna' }), onboarding('u-ben', { firstName: 'Ben' })]);
    expect([anna.welcome.title, ben.welcome.title]).toEqual(['Welcome, Anna', 'Welcome, Ben']);
  });
});
