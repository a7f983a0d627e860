import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TApp } from '../../api/src/app.ts';
import { openDatabase, type TDatabase } from '../../api/src/db/database.ts';
import { migrate } from '../../api/src/db/migrator.ts';
import { seedDemo, type TSeedResult } from '../../api/src/seed.ts';
import { createPostgresDatabase } from '../support/databases.ts';
import { postGraphQL, startApiProcess, type TApiProcess } from '../support/process.ts';

const TRACK = 'mutation($events: [TrackEventInput!]!) { track(events: $events) { accepted duplicates } }';
const WELCOME = '{ onboarding(user: { id: "x" }) { version welcome { title } } }';

async function waitFor(check: () => Promise<boolean>, deadlineMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < deadlineMs) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`Not seen within ${deadlineMs} ms`);
}

describe('two API processes on one PostgreSQL', () => {
  let target: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let db: TDatabase;
  let app: TApp;
  let other: TApiProcess;
  let ws: TSeedResult;

  beforeAll(async () => {
    target = await createPostgresDatabase();
    db = await openDatabase({ databaseUrl: target.url });
    await migrate(db);
    ws = await seedDemo(db.prisma);
    app = await createApp({ db });
    // A long max age rules out the periodic fallback: only NOTIFY can refresh the other process in time.
    other = await startApiProcess({ DATABASE_URL: target.url, DOORSTEP_SNAPSHOT_MAX_AGE_MS: '600000' });
  }, 90_000);

  afterAll(async () => {
    await other?.stop();
    await app?.close();
    await db?.close();
    await target?.drop();
  });

  const gqlHere = async (key: string, query: string, variables?: unknown) =>
    (await app.yoga.fetch('http://local/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    })).json();

  it('should serve a version published through the other process within a second', async () => {
    expect((await postGraphQL(other.url, ws.publicKey, WELCOME)).data.onboarding.version).toBe(1);
    const { draft } = (await gqlHere(ws.secretKey, '{ flow(key: "self-serve") { draft { revision content } } }')).data.flow;
    await gqlHere(ws.secretKey, 'mutation($c: JSON!, $r: Int!) { saveDraft(flowKey: "self-serve", revision: $r, content: $c) { __typename } }', {
      c: { ...draft.content, welcome: { ...draft.content.welcome, title: 'Published elsewhere' } }, r: draft.revision,
    });
    const published = await gqlHere(ws.secretKey, 'mutation { publishFlow(flowKey: "self-serve", environmentKey: "production") { __typename } }');
    expect(published.data.publishFlow.__typename).toBe('FlowRelease');
    await waitFor(async () => (await postGraphQL(other.url, ws.publicKey, WELCOME)).data.onboarding.welcome.title === 'Published elsewhere', 1_000);
  });

  it('should refuse a key revoked through the other process within a second', async () => {
    const created = await gqlHere(ws.secretKey, 'mutation { createApiKey(input: { name: "temp", kind: public, environmentKey: "production" }) { ... on ApiKeyCreated { secret apiKey { id } } } }');
    const { secret, apiKey } = created.data.createApiKey;
    expect((await postGraphQL(other.url, secret, WELCOME)).data.onboarding).not.toBeNull();
    await gqlHere(ws.secretKey, 'mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }', { id: apiKey.id });
    await waitFor(async () => (await postGraphQL(other.url, secret, WELCOME)).errors?.[0]?.extensions?.code === 'UNAUTHENTICATED', 1_000);
  });

  it('should route a user by an answer sent to the other process on their next onboarding here', async () => {
    const query = '{ onboarding(user: { id: "answers-elsewhere" }) { flow { key } } }';
    // Cached here first: only the other process's notice can make this process read it again in time.
    expect((await gqlHere(ws.publicKey, query)).data.onboarding.flow.key).toBe('self-serve');
    const answered = await postGraphQL(other.url, ws.publicKey, TRACK, { events: [
      { id: 'answer-elsewhere', userId: 'answers-elsewhere', name: 'question_answered', flowKey: 'self-serve', questionId: 'company-size', value: 900 },
    ] });
    expect(answered.data.track.accepted).toBe(1);
    const took = await waitFor(async () => (await gqlHere(ws.publicKey, query)).data.onboarding.flow.key === 'sales-assisted', 1_000);
    expect(took).toBeLessThan(1_000);
  });

  it('should store events sent to both processes exactly once', async () => {
    const events = Array.from({ length: 40 }, (_, i) => ({ id: `both-${i}`, userId: `both-user-${i % 4}`, name: i % 2 ? 'report_viewed' : 'first_event_received' }));
    const [here, there] = await Promise.all([gqlHere(ws.publicKey, TRACK, { events }), postGraphQL(other.url, ws.publicKey, TRACK, { events })]);
    expect(here.data.track.accepted + there.data.track.accepted).toBe(80);
    expect(here.data.track.duplicates + there.data.track.duplicates).toBe(40);
    const stored = await db.prisma.event.count({ where: { clientEventId: { startsWith: 'both-' } } });
    expect(stored).toBe(40);
  });
});
