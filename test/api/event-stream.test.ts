import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TApp } from '../../api/src/app.ts';
import { openDatabase, type TDatabase } from '../../api/src/db/database.ts';
import { migrate } from '../../api/src/db/migrator.ts';
import { seedDemo, type TSeedResult } from '../../api/src/seed.ts';
import { listen } from '../../api/src/server.ts';
import { useListeningApi, useTestApi, useTestWorkspace } from '../support/api.ts';
import { createPostgresDatabase, DATABASE_KINDS } from '../support/databases.ts';
import { freePort } from '../support/process.ts';
import { publishTitle, type TGql } from '../support/publish.ts';
import { openSse, type TSseStream } from '../support/sse.ts';

describe.each(DATABASE_KINDS)('GET /events on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);
  const http = useListeningApi(api);
  const open: TSseStream[] = [];
  const events = async (query: string, headers: Record<string, string> = {}) => {
    const stream = await openSse(`${http.origin}/events${query}`, headers);
    open.push(stream);
    return stream;
  };
  afterAll(() => open.forEach((stream) => stream.close()));

  it('should start with a ready event carrying the environment ETag, with headers that keep proxies from caching or buffering it', async () => {
    const stream = await events(`?key=${ws.publicKey}`);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.response.headers.get('cache-control')).toBe('no-cache');
    expect(stream.response.headers.get('x-accel-buffering')).toBe('no');
    const ready = await stream.next();
    expect(ready).toMatchObject({ event: 'ready', retry: 3000, data: { type: 'ready', etag: expect.stringMatching(/^".+"$/) } });
    expect(ready.id).toBe(ready.data.etag);
    stream.close();
  });

  it('should tell a connected client to refetch, with a new ETag, when the environment publishes', async () => {
    const stream = await events('', { authorization: `Bearer ${ws.publicKey}` });
    const ready = await stream.next();
    await publishTitle(api.gql, ws.secretKey, 'Live from the stream');
    const changed = await stream.next(1_000);
    expect(changed).toMatchObject({ event: 'message', data: { type: 'refetchEvaluation' } });
    expect(changed.data.etag).not.toBe(ready.data.etag);
    expect(changed.id).toBe(changed.data.etag);
    // The new ETag is what a client connecting now is given.
    const later = await events(`?key=${ws.publicKey}`);
    expect((await later.next()).data.etag).toBe(changed.data.etag);
    stream.close();
    later.close();
  });

  it('should not notify another environment of the workspace, nor announce a draft save', async () => {
    const staging = await events(`?key=${ws.stagingPublicKey}`);
    const production = await events(`?key=${ws.publicKey}`);
    await staging.next();
    await production.next();
    const { draft } = (await api.gql(ws.secretKey, '{ flow(key: "self-serve") { draft { revision content } } }')).data.flow;
    await api.gql(ws.secretKey, 'mutation($c: JSON!, $r: Int!) { saveDraft(flowKey: "self-serve", revision: $r, content: $c) { __typename } }', {
      c: { ...draft.content, welcome: { ...draft.content.welcome, title: 'Only a draft' } }, r: draft.revision,
    });
    await expect(production.next(500)).rejects.toThrow(/No event/);
    await api.gql(ws.secretKey, 'mutation { publishFlow(flowKey: "self-serve", environmentKey: "production") { __typename } }');
    expect((await production.next(1_000)).data.type).toBe('refetchEvaluation');
    await expect(staging.next(300)).rejects.toThrow(/No event/);
    staging.close();
    production.close();
  });

  it('should tell a client that reconnects with an older Last-Event-ID to refetch at once', async () => {
    const first = await events(`?key=${ws.publicKey}`);
    const { id } = await first.next();
    first.close();
    await publishTitle(api.gql, ws.secretKey, 'Published while away');
    const again = await events(`?key=${ws.publicKey}`, { 'last-event-id': id! });
    const ready = await again.next();
    expect(ready.data.etag).not.toBe(id);
    expect(await again.next(500)).toMatchObject({ event: 'message', data: { type: 'refetchEvaluation', etag: ready.data.etag } });
    again.close();
  });

  it('should tell every stream to refetch when the change listener reconnected and may have missed changes', async () => {
    const stream = await events(`?key=${ws.publicKey}`);
    const ready = await stream.next();
    // What ChangeBus dispatches after a lost LISTEN connection comes back.
    api.app.services.streams.onChange({ type: 'all' });
    expect(await stream.next(1_000)).toMatchObject({ data: { type: 'refetchEvaluation', etag: ready.data.etag } });
    stream.close();
  });

  it('should refuse a stream without a key, with an unknown key, or with a revoked one', async () => {
    expect((await events('')).response.status).toBe(401);
    expect((await events('?key=dpk_not_a_real_key_0000000000')).response.status).toBe(401);
    const created = await api.gql(ws.secretKey, 'mutation { createApiKey(input: { name: "gone", kind: public, environmentKey: "production" }) { ... on ApiKeyCreated { secret apiKey { id } } } }');
    const { secret, apiKey } = created.data.createApiKey;
    await api.gql(ws.secretKey, 'mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }', { id: apiKey.id });
    const refused = await events(`?key=${secret}`);
    expect(refused.response.status).toBe(401);
    expect((await refused.response.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('should refuse a secret key or a session in the URL, even a valid one', async () => {
    const refused = await events(`?key=${ws.secretKey}`);
    expect(refused.response.status).toBe(403);
    expect((await refused.response.json()).errors[0].message).toMatch(/revoke it/);
    expect((await events('?key=dss_some_session_token_000000000')).response.status).toBe(403);
    // Even with the public key in the header: the secret one has leaked into the URL either way.
    expect((await events(`?key=${ws.secretKey}`, { authorization: `Bearer ${ws.publicKey}` })).response.status).toBe(403);
  });

  it('should stream to a management credential in the header for a named environment of its workspace', async () => {
    const stream = await events('?environment=production', { authorization: `Bearer ${ws.secretKey}` });
    expect(stream.response.status).toBe(200);
    const public_ = await events(`?key=${ws.publicKey}`);
    expect((await stream.next()).data.etag).toBe((await public_.next()).data.etag);
    expect((await events('', { authorization: `Bearer ${ws.secretKey}` })).response.status).toBe(400);
    expect((await events('?environment=nowhere', { authorization: `Bearer ${ws.secretKey}` })).response.status).toBe(404);
    stream.close();
    public_.close();
  });

  it('should refuse an environment named with a NUL character as invalid input, not as an unexpected error', async () => {
    const refused = await events('?environment=production%00', { authorization: `Bearer ${ws.secretKey}` });
    expect(refused.response.status).toBe(400);
    expect((await refused.response.json()).errors).toEqual([{ message: 'environment: Text cannot contain the NUL character (U+0000)', extensions: { code: 'VALIDATION' } }]);
  });

  it('should refuse a public key from an origin it does not allow, and serve the origins it does', async () => {
    const created = await api.gql(ws.secretKey, 'mutation { createApiKey(input: { name: "web", kind: public, environmentKey: "production", allowedOrigins: ["https://app.example.com"] }) { ... on ApiKeyCreated { secret } } }');
    const { secret } = created.data.createApiKey;
    const refused = await events(`?key=${secret}`, { origin: 'https://evil.example' });
    expect(refused.response.status).toBe(403);
    expect((await refused.response.json()).errors[0].extensions.code).toBe('FORBIDDEN');
    const allowed = await events(`?key=${secret}`, { origin: 'https://app.example.com' });
    expect(allowed.response.status).toBe(200);
    expect(allowed.response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    allowed.close();
  });

  it('should end open streams when the listener closes, so closing does not wait for them', async () => {
    const port = await freePort();
    const server = await listen(api.app, port, '127.0.0.1');
    const stream = await openSse(`http://127.0.0.1:${port}/events?key=${ws.publicKey}`);
    await stream.next();
    const started = Date.now();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    expect(Date.now() - started).toBeLessThan(2_000);
    await stream.ended;
    await expect(stream.next(100)).rejects.toThrow(/ended/);
  });
});

describe('GET /events limits', () => {
  const api = useTestApi('pglite', { eventStreamLimits: { perEnvironment: 2, perNode: 3 } });
  const ws = useTestWorkspace(api);
  const http = useListeningApi(api);

  it('should answer 429 with Retry-After past the streams one environment may hold, and 503 past the node\'s', async () => {
    const streams = [await openSse(`${http.origin}/events?key=${ws.publicKey}`), await openSse(`${http.origin}/events?key=${ws.publicKey}`)];
    await Promise.all(streams.map((s) => s.next()));
    const third = await openSse(`${http.origin}/events?key=${ws.publicKey}`);
    expect(third.response.status).toBe(429);
    expect(Number(third.response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await third.response.json()).errors[0].extensions.code).toBe('RATE_LIMITED');

    streams.push(await openSse(`${http.origin}/events?key=${ws.stagingPublicKey}`));
    await streams[2]!.next();
    const fourth = await openSse(`${http.origin}/events?key=${ws.stagingPublicKey}`);
    expect(fourth.response.status).toBe(503);
    expect(Number(fourth.response.headers.get('retry-after'))).toBeGreaterThan(0);

    // A closed stream frees its place.
    streams[0]!.close();
    const deadline = Date.now() + 2_000;
    while (api.app.services.streams.size > 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const replacement = await openSse(`${http.origin}/events?key=${ws.publicKey}`);
    expect(replacement.response.status).toBe(200);
    [...streams, replacement].forEach((s) => s.close());
  });
});

describe('GET /events on two API nodes sharing one PostgreSQL', () => {
  let target: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const nodes: Array<{ db: TDatabase; app: TApp; server: Server; origin: string }> = [];
  let ws: TSeedResult;

  beforeAll(async () => {
    target = await createPostgresDatabase();
    for (let i = 0; i < 2; i++) {
      // Each node has its own pool and its own LISTEN connection, as two processes would.
      const db = await openDatabase({ databaseUrl: target.url });
      if (i === 0) {
        await migrate(db);
        ws = await seedDemo(db.prisma);
      }
      // A long max age rules out the periodic rebuild: only NOTIFY can tell node B in time.
      const app = await createApp({ db, snapshotMaxAgeMs: 600_000 });
      const port = await freePort();
      nodes.push({ db, app, server: await listen(app, port, '127.0.0.1'), origin: `http://127.0.0.1:${port}` });
    }
  }, 90_000);

  afterAll(async () => {
    for (const node of nodes) {
      await new Promise((resolve) => node.server.close(resolve));
      await node.app.close();
      await node.db.close();
    }
    await target?.drop();
  });

  const gqlOn = (app: TApp): TGql => async (key, query, variables) =>
    (await app.yoga.fetch('http://node/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    })).json();

  it('should notify a client of node B within a second of a publish through node A', async () => {
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    const onB = await openSse(`${b.origin}/events?key=${ws.publicKey}`);
    const onA = await openSse(`${a.origin}/events?key=${ws.publicKey}`);
    const readyB = await onB.next();
    // Both nodes derive the same ETag from the same published state.
    expect((await onA.next()).data.etag).toBe(readyB.data.etag);

    const publishStarted = Date.now();
    await publishTitle(gqlOn(a.app), ws.secretKey, 'Published on node A');
    const publishAnswered = Date.now();
    const changed = await onB.next(2_000);
    const latencyMs = changed.receivedAt - publishStarted;
    console.log(`[event-stream] node B notified ${latencyMs} ms after the publish request started (${changed.receivedAt - publishAnswered} ms after its answer)`);
    expect(changed.data).toMatchObject({ type: 'refetchEvaluation' });
    expect(changed.data.etag).not.toBe(readyB.data.etag);
    expect(latencyMs).toBeLessThan(1_000);
    // And node B serves what the new ETag stands for.
    const served = await gqlOn(b.app)(ws.publicKey, '{ onboarding(user: { id: "x" }) { welcome { title } } }');
    expect(served.data.onboarding.welcome.title).toBe('Published on node A');
    expect((await onA.next(1_000)).data.etag).toBe(changed.data.etag);
    onA.close();
    onB.close();
  });
});
