import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TApp } from '../../api/src/app.ts';
import type { TDatabase } from '../../api/src/db/database.ts';
import { seedDemo, type TSeedResult } from '../../api/src/seed.ts';
import { listen } from '../../api/src/server.ts';
import { ONBOARDING_DOCUMENT, TRACK_DOCUMENT } from '../../sdk/src/documents.ts';
import { useListeningApi, useTestApi, useTestWorkspace } from '../support/api.ts';
import { createTestDatabase, DATABASE_KINDS, type TTestDatabase } from '../support/databases.ts';
import { launchedExperiment } from '../support/experiments.ts';
import { freePort } from '../support/process.ts';
import { publishTitle } from '../support/publish.ts';

const PLACEMENTS_DOCUMENT = `query Placements($user: OnboardingUserInput!, $locale: String) {
  onboardings(user: $user, locale: $locale) { __typename placement variant flow { key } ...Texts progress { completed dismissed completedStepIds } }
} fragment Texts on Onboarding { welcome { title bodyHtml } steps { title body cta { url } } }`;
const ALIASED_DOCUMENT = `query($user: OnboardingUserInput!, $placement: String) {
  served: onboarding(user: $user, placement: $placement) { v: version flow { key name } activation { event } checklist { items { id } } }
}`;

describe.each(DATABASE_KINDS)('the runtime fast path on %s', (kind) => {
  // Two more documents of other shapes (fragments, aliases, the list field) trusted beside the client's.
  const api = useTestApi(kind, { trustedDocuments: [ONBOARDING_DOCUMENT, TRACK_DOCUMENT, PLACEMENTS_DOCUMENT, ALIASED_DOCUMENT] });
  const ws = useTestWorkspace(api);
  const listening = useListeningApi(api);
  const graphqlUrl = () => `${listening.origin}/graphql`;

  const post = (key: string, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) =>
    fetch(graphqlUrl(), { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, body: JSON.stringify({ query, variables }) });
  const viaYoga = async (key: string, query: string, variables: Record<string, unknown>) =>
    (await api.request(key, { query, variables }, { accept: 'application/json' })).text();

  /** Personal text and a step shown only to some users, so shared and per-user parts both appear. */
  async function publishPersonalFlow(): Promise<void> {
    const { draft } = (await api.gql(ws.secretKey, '{ flow(key: "developer-quickstart") { draft { revision content } } }')).data.flow;
    const content = structuredClone(draft.content);
    content.welcome.title = 'Ship it, {{firstName|friend}}';
    content.steps[1].showIf = { plan: 'pro' };
    await api.gql(ws.secretKey, 'mutation($c: JSON!, $r: Int!) { saveDraft(flowKey: "developer-quickstart", revision: $r, content: $c) { __typename } }', { c: content, r: draft.revision });
    const published = await api.gql(ws.secretKey, 'mutation { publishFlow(flowKey: "developer-quickstart", environmentKey: "production") { __typename } }');
    expect(published.data.publishFlow.__typename).toBe('FlowRelease');
  }

  /** Users across attributes, locales, experiment variants and progress states. */
  async function generatedUsers(): Promise<Array<{ user: Record<string, unknown>; locale: string | null }>> {
    const users = Array.from({ length: 36 }, (_, i) => ({
      user: {
        id: `gen-${i}`,
        attributes: {
          ...(i % 3 === 0 ? { role: 'developer' } : {}), ...(i % 4 === 1 ? { companySize: 500 } : {}), ...(i % 2 === 0 ? { plan: 'pro' } : {}),
          ...(i % 5 === 0 ? { firstName: `Ann <${i}> "é"` } : {}),
        },
      },
      locale: [null, 'fr', 'de', 'fr-CA'][i % 4],
    }));
    const events = users.flatMap(({ user }, i) => {
      const userId = user.id as string;
      const id = (name: string) => `${userId}-${name}`;
      switch (i % 6) {
        case 1: return [{ id: id('start'), userId, name: 'flow_started', flowKey: 'self-serve' }];
        case 2: return [{ id: id('start'), userId, name: 'flow_started', flowKey: 'self-serve' }, { id: id('ev'), userId, name: 'first_event_received' }];
        case 3: return [{ id: id('dismiss'), userId, name: 'flow_dismissed', flowKey: 'self-serve' }];
        case 4: return [{ id: id('answer'), userId, name: 'question_answered', flowKey: 'self-serve', questionId: 'company-size', value: 900 }];
        case 5: return [{ id: id('done'), userId, name: 'flow_completed', flowKey: 'whats-new-sharing' }];
        default: return [];
      }
    });
    const tracked = await api.gql(ws.publicKey, TRACK_DOCUMENT, { events });
    expect(tracked.errors).toBeUndefined();
    return users;
  }

  it('should answer every generated user byte for byte as yoga does, for the client document and others', async () => {
    await launchedExperiment(api, ws, 'fast-path-test');
    await publishPersonalFlow();
    const users = await generatedUsers();
    const before = api.app.runtime.answered;
    let compared = 0;
    for (const [document, extra] of [[ONBOARDING_DOCUMENT, {}], [PLACEMENTS_DOCUMENT, {}], [ALIASED_DOCUMENT, { placement: 'banner' }]] as const) {
      for (const { user, locale } of users) {
        const variables = { user, locale, ...extra };
        const expected = await viaYoga(ws.publicKey, document, variables);
        const response = await post(ws.publicKey, document, variables);
        expect(await response.text(), `${user.id} ${document.slice(0, 30)}`).toBe(expected);
        expect(JSON.parse(expected).errors).toBeUndefined();
        compared++;
      }
    }
    expect(api.app.runtime.answered - before).toBe(compared);
  });

  it('should leave to yoga what it does not compile, with yoga\'s errors', async () => {
    const badUser = await post(ws.publicKey, ONBOARDING_DOCUMENT, { user: { id: '' } });
    expect((await badUser.json()).errors[0].extensions.code).toBe('VALIDATION');
    const withDirective = ONBOARDING_DOCUMENT.replace('progress {', 'progress @skip(if: false) {');
    const before = api.app.runtime.answered;
    for (let i = 0; i < 2; i++) expect((await (await post(ws.publicKey, withDirective, { user: { id: 'u' } })).json()).data.onboarding.progress).toBeDefined();
    const untrusted = ONBOARDING_DOCUMENT.replace('DoorstepOnboarding', 'SomeAppOnboarding');
    expect((await (await post(ws.publicKey, untrusted, { user: { id: 'u' } })).json()).data.onboarding.flow.key).toBe('self-serve');
    // Yoga refuses a JSON body sent as another media type; so must the fast path.
    const mislabelled = await fetch(graphqlUrl(), {
      method: 'POST', headers: { 'content-type': 'text/plain; x=json', authorization: `Bearer ${ws.publicKey}` }, body: JSON.stringify({ query: ONBOARDING_DOCUMENT, variables: { user: { id: 'u' } } }),
    });
    expect(mislabelled.status).toBe(415);
    const secret = await post(ws.secretKey, ONBOARDING_DOCUMENT, { user: { id: 'u' } });
    expect((await secret.json()).errors[0].extensions.code).toBe('FORBIDDEN');
    expect(api.app.runtime.answered).toBe(before);
  });

  it('should record track batches as yoga does, answering the same bytes and headers', async () => {
    const batch = (prefix: string) => [
      { id: `${prefix}-1`, userId: `${prefix}-user`, name: 'flow_started', flowKey: 'self-serve' },
      { id: `${prefix}-2`, userId: `${prefix}-user`, name: 'first_event_received', properties: { source: 'test' } },
    ];
    const before = api.app.runtime.answered;
    const yoga = await api.app.yoga.fetch('http://doorstep.test/graphql', {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.publicKey}`, origin: 'http://app.test' },
      body: JSON.stringify({ query: TRACK_DOCUMENT, variables: { events: batch('via-yoga') } }),
    });
    const fast = await post(ws.publicKey, TRACK_DOCUMENT, { events: batch('via-fast') }, { origin: 'http://app.test' });
    const yogaBody = await yoga.text();
    expect(await fast.text()).toBe(yogaBody);
    expect(JSON.parse(yogaBody)).toEqual({ data: { track: { accepted: 2, duplicates: 0 } } });
    const headersOf = (response: Response) => [...response.headers]
      .map(([name, value]) => [name.toLowerCase(), value])
      .filter(([name]) => !['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(name))
      .sort(([a], [b]) => a.localeCompare(b));
    expect(headersOf(fast)).toEqual(headersOf(yoga));
    // A retry of the same batch is answered as duplicates, and the derived progress is there.
    const again = await post(ws.publicKey, TRACK_DOCUMENT, { events: batch('via-fast') });
    expect(await again.json()).toEqual({ data: { track: { accepted: 2, duplicates: 2 } } });
    expect(api.app.runtime.answered - before).toBe(2);
    const served = await (await post(ws.publicKey, ONBOARDING_DOCUMENT, { user: { id: 'via-fast-user' } })).json();
    expect(served.data.onboarding.progress.completedStepIds).toContain('install-snippet');
    // What yoga would refuse, yoga answers: an unknown step, an event the snapshot cannot place.
    const refused = await post(ws.publicKey, TRACK_DOCUMENT, { events: [{ id: 'bad-1', userId: 'u', name: 'step_completed', flowKey: 'self-serve', stepId: 'nope' }] });
    expect((await refused.json()).errors[0].extensions.code).toBe('VALIDATION');
    expect(api.app.runtime.answered - before).toBe(3);
  });

  it('should answer 304 until the answer changes, then a new ETag', async () => {
    const variables = { user: { id: 'etag-user' } };
    await post(ws.publicKey, ONBOARDING_DOCUMENT, variables);
    const first = await post(ws.publicKey, ONBOARDING_DOCUMENT, variables);
    const etag = first.headers.get('etag')!;
    await first.text();
    const same = await post(ws.publicKey, ONBOARDING_DOCUMENT, variables, { 'if-none-match': etag });
    expect(same.status).toBe(304);
    // Progress changes the answer: a step done.
    await api.gql(ws.publicKey, TRACK_DOCUMENT, { events: [
      { id: 'etag-1', userId: 'etag-user', name: 'flow_started', flowKey: 'self-serve' },
      { id: 'etag-2', userId: 'etag-user', name: 'step_completed', flowKey: 'self-serve', stepId: 'about-you' },
    ] });
    const progressed = await post(ws.publicKey, ONBOARDING_DOCUMENT, variables, { 'if-none-match': etag });
    expect(progressed.status).toBe(200);
    const progressedTag = progressed.headers.get('etag')!;
    expect((await progressed.json()).data.onboarding.progress.completedStepIds).toEqual(['about-you']);
    // An event that changes nothing the answer shows keeps the ETag.
    await api.gql(ws.publicKey, TRACK_DOCUMENT, { events: [{ id: 'etag-3', userId: 'etag-user', name: 'report_viewed' }] });
    expect((await post(ws.publicKey, ONBOARDING_DOCUMENT, variables, { 'if-none-match': progressedTag })).status).toBe(304);
    // A publish changes the answer of a user who has not started the flow; one mid-flow keeps
    // their version (in-flight: keep), so their answer and its ETag stay.
    const fresh = { user: { id: 'etag-fresh' } };
    await post(ws.publicKey, ONBOARDING_DOCUMENT, fresh);
    const freshTag = (await post(ws.publicKey, ONBOARDING_DOCUMENT, fresh)).headers.get('etag')!;
    await publishTitle(api.gql, ws.secretKey, 'A new welcome');
    const republished = await post(ws.publicKey, ONBOARDING_DOCUMENT, fresh, { 'if-none-match': freshTag });
    expect(republished.status).toBe(200);
    expect((await republished.json()).data.onboarding.welcome.title).toBe('A new welcome');
    expect((await post(ws.publicKey, ONBOARDING_DOCUMENT, variables, { 'if-none-match': progressedTag })).status).toBe(304);
  });

  it('should answer a repeated request from memory until what it depends on changes', async () => {
    const variables = { user: { id: 'memo-user', attributes: { plan: 'pro' } } };
    const bodies = [];
    const fromMemory = () => api.app.runtime.fromMemory;
    await (await post(ws.publicKey, ONBOARDING_DOCUMENT, variables)).text();
    let before = fromMemory();
    bodies.push(await (await post(ws.publicKey, ONBOARDING_DOCUMENT, variables)).text());
    bodies.push(await (await post(ws.publicKey, ONBOARDING_DOCUMENT, variables)).text());
    expect(fromMemory() - before).toBeGreaterThanOrEqual(1);
    expect(bodies[1]).toBe(bodies[0]);
    // The user's state changes: the next answer is worked out again and shows it.
    await api.gql(ws.publicKey, TRACK_DOCUMENT, { events: [{ id: 'memo-1', userId: 'memo-user', name: 'flow_dismissed', flowKey: 'self-serve' }] });
    before = fromMemory();
    const dismissed = await (await post(ws.publicKey, ONBOARDING_DOCUMENT, variables)).json();
    expect(fromMemory()).toBe(before);
    expect(dismissed.data.onboarding).toBeNull();
    // A placement with frequency caps depends on the clock: never answered from memory.
    await api.gql(ws.secretKey, 'mutation { savePlacement(input: { key: "banner", name: "Banner", maxShows: 1, windowHours: 24 }) { __typename } }');
    const banner = { ...variables, placement: 'banner' };
    for (let i = 0; i < 3; i++) await (await post(ws.publicKey, ONBOARDING_DOCUMENT, banner)).text();
    before = fromMemory();
    await (await post(ws.publicKey, ONBOARDING_DOCUMENT, banner)).text();
    expect(fromMemory()).toBe(before);
  });

  it('should not answer from memory for a user identity verification no longer accepts', async () => {
    const variables = { user: { id: 'memo-unsigned' } };
    for (let i = 0; i < 3; i++) await (await post(ws.publicKey, ONBOARDING_DOCUMENT, variables)).text();
    const enabled = await api.gql(ws.secretKey, 'mutation { enableIdentityVerification(environmentKey: "production") { __typename } }');
    expect(enabled.errors).toBeUndefined();
    const refused = await (await post(ws.publicKey, ONBOARDING_DOCUMENT, variables)).json();
    expect(refused.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('should give the same ETag for the same answer across users and snapshot rebuilds', async () => {
    const tags = [];
    for (const id of ['same-a', 'same-b']) {
      await post(ws.publicKey, ONBOARDING_DOCUMENT, { user: { id } });
      const response = await post(ws.publicKey, ONBOARDING_DOCUMENT, { user: { id } });
      await response.text();
      tags.push(response.headers.get('etag'));
      api.app.services.snapshots.invalidateAll();
    }
    expect(tags[0]).toBe(tags[1]);
  });
});

describe.each(DATABASE_KINDS)('the warm runtime path on %s', (kind) => {
  let database: TTestDatabase;
  let app: TApp;
  let server: Server;
  let url: string;
  let ws: TSeedResult;
  const counts = { raw: 0, prisma: 0 };

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    ws = await seedDemo(database.db.prisma);
    const { db } = database;
    // Every query the API can send goes through one of these two: raw reads and writes, or Prisma.
    const counted: TDatabase = {
      ...db,
      query: (sql, params) => { counts.raw++; return db.query(sql, params); },
      prisma: db.prisma.$extends({ query: { $allOperations: ({ args, query }) => { counts.prisma++; return query(args); } } }) as unknown as TDatabase['prisma'],
    };
    app = await createApp({ db: counted });
    server = await listen(app, await freePort(), '127.0.0.1');
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/graphql`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await app.close();
    await database.drop();
  });

  it('should serve a returning user without any database query', async () => {
    const body = JSON.stringify({ query: ONBOARDING_DOCUMENT, variables: { user: { id: 'warm-user', attributes: { plan: 'pro' } }, locale: 'fr' } });
    const post = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.publicKey}` }, body });
    for (let i = 0; i < 2; i++) await (await post()).text();
    await Promise.all([app.services.profiles.flush(), app.services.serves.flush()]);
    const before = { ...counts };
    expect(before.raw).toBeGreaterThan(0);
    expect(before.prisma).toBeGreaterThan(0);
    for (let i = 0; i < 20; i++) {
      const response = await post();
      expect((await response.json()).data.onboarding.locale).toBe('fr');
    }
    expect(counts).toEqual(before);
  });
});
