import type { Server } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, type TApp } from '../../api/src/app.ts';
import { openDatabase, type TDatabase } from '../../api/src/db/database.ts';
import { migrate } from '../../api/src/db/migrator.ts';
import { seedDemo, type TSeedResult } from '../../api/src/seed.ts';
import { listen } from '../../api/src/server.ts';
import { ONBOARDING_DOCUMENT, TRACK_DOCUMENT } from '../../sdk/src/documents.ts';
import type { TGraphQLResponse } from '../support/api.ts';
import { createPostgresDatabase } from '../support/databases.ts';
import { startFaultProxy, type TFaultProxy } from '../support/fault-proxy.ts';
import { freePort, startApiProcess, type TApiProcess } from '../support/process.ts';
import { publishTitle } from '../support/publish.ts';

// The timeline of the outage: load, PostgreSQL gone for CUT_MS, load again.
const CLIENTS_PER_NODE = 8;
const EVENTS_PER_BATCH = 10;
const LOAD_BEFORE_CUT_MS = 2_500;
const CUT_MS = 2_000;
const LOAD_AFTER_RESTORE_MS = 3_500;
/** Users each node serves once before the load, so that it holds them in memory when the database goes. */
const KNOWN_USERS_PER_NODE = 6;
/** Generous: a request that takes this long counts as failed, whatever the node did with it. */
const REQUEST_TIMEOUT_MS = 20_000;
/** Pools and LISTEN connections reconnect with backoff; a busy machine may add seconds. */
const RECOVERY_DEADLINE_MS = 20_000;
/** The key cache's lifetime (auth/key-resolver.ts): past it, even a known user's request needs the database. */
const KEY_CACHE_TTL_MS = 10_000;

type TNodeName = 'A' | 'B';
type TNode = { name: TNodeName; url: string; knownUsers: string[]; warmedAt: number };
type TKind = 'track' | 'known' | 'new';
/** `ok`: the answer a working node gives; `error`: a GraphQL error or a 5xx; `network`: no HTTP answer; `wrong`: anything else. */
type TOutcome = 'ok' | 'error' | 'network' | 'wrong';
type TEvent = { id: string; userId: string; name: string };
type TReply = { status: number; body?: TGraphQLResponse; text: string };
type TRecord = {
  node: TNodeName; kind: TKind; started: number; ended: number; outcome: TOutcome; reply: TReply; events?: TEvent[];
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, deadlineMs: number): Promise<{ value: T; tookMs: number }> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < deadlineMs) {
    try {
      const value = await check();
      if (value) return { value, tookMs: Date.now() - started };
    } catch (error) {
      last = error;
    }
    await sleep(50);
  }
  throw new Error(`${what}: not seen within ${deadlineMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
}

async function post(url: string, key: string, query: string, variables: Record<string, unknown>): Promise<TReply> {
  try {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let body: TGraphQLResponse | undefined;
    try { body = JSON.parse(text) as TGraphQLResponse; } catch { body = undefined; }
    return { status: res.status, body, text };
  } catch (error) {
    return { status: 0, text: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

function outcomeOf(kind: TKind, reply: TReply): TOutcome {
  if (reply.status === 0) return 'network';
  const { body } = reply;
  if (reply.status === 200 && kind === 'track' && body?.data?.track) {
    // `duplicates` counts the accepted events stored before (a commit that landed just before its connection was lost).
    const { accepted, duplicates } = body.data.track as { accepted: number; duplicates: number };
    return accepted === EVENTS_PER_BATCH && duplicates >= 0 && duplicates <= accepted && !body.errors ? 'ok' : 'wrong';
  }
  if (reply.status === 200 && kind !== 'track' && body?.data?.onboarding) {
    return body.data.onboarding.flow?.key === 'self-serve' && !body.errors ? 'ok' : 'wrong';
  }
  const field = kind === 'track' ? 'track' : 'onboarding';
  if (body?.data?.[field] == null && ((body?.errors?.length ?? 0) > 0 || reply.status >= 500)) return 'error';
  return 'wrong';
}

/** A short description of a reply, for failure messages and the summary. */
function describeReply(reply: TReply): string {
  if (reply.status === 0) return reply.text;
  const error = reply.body?.errors?.[0];
  return error ? `${reply.status} ${String(error.extensions?.code ?? '')} ${error.message}` : `${reply.status} ${reply.text.slice(0, 200)}`;
}

/**
 * A PostgreSQL restart under load, simulated by a TCP proxy between the API nodes and the machine's
 * PostgreSQL (shared with other tests, so it is never stopped): `cut()` resets every connection and
 * refuses new ones, as a server going down does, `restore()` accepts again. Node A runs in this
 * process, node B is the built API in a process of its own; both reach the database only through the
 * proxy. The checks read PostgreSQL directly.
 */
describe('a PostgreSQL restart under load', () => {
  let target: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let setup: TDatabase;
  let direct: pg.Client;
  let proxy: TFaultProxy;
  let dbA: TDatabase;
  let appA: TApp;
  let serverA: Server;
  let processB: TApiProcess;
  let ws: TSeedResult;
  let environmentId: string;
  let nodes: TNode[];
  /** Node A's log: it shares this process's console, which is kept quiet during the outage. */
  const logA: Array<{ at: number; line: string }> = [];
  const records: TRecord[] = [];
  let cutAt = 0;
  let restoredAt = 0;
  let healthDuringCut: number[] = [];
  let stopLoad = false;
  let load: Promise<unknown> = Promise.resolve();

  const print = console.log.bind(console);
  const nodeLog = (name: TNodeName) => (name === 'A' ? logA.map((entry) => entry.line).join('\n') : processB.output());
  const countLines = (text: string, pattern: string) => text.split('\n').filter((line) => line.includes(pattern)).length;

  beforeAll(async () => {
    for (const method of ['log', 'warn', 'error'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => { logA.push({ at: Date.now(), line: args.map(String).join(' ') }); });
    }
    target = await createPostgresDatabase();
    setup = await openDatabase({ databaseUrl: target.url });
    await migrate(setup);
    ws = await seedDemo(setup.prisma);
    environmentId = (await setup.prisma.environment.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, key: 'production' } })).id;
    direct = new pg.Client({ connectionString: target.url });
    await direct.connect();

    proxy = await startFaultProxy();
    const proxied = proxy.proxied(target.url);
    dbA = await openDatabase({ databaseUrl: proxied });
    // Snapshots never expire here: after the restore, only NOTIFY can bring one node's publish to the
    // other in time. Node A gives up on a failing commit after two attempts, so that requests caught by
    // the cut fail (and their clients retry them); node B keeps production's eight, which mostly
    // outlast a two-second outage.
    appA = await createApp({ db: dbA, snapshotMaxAgeMs: 600_000, eventCommitter: { maxAttempts: 2 } });
    const portA = await freePort();
    serverA = await listen(appA, portA, '127.0.0.1');
    processB = await startApiProcess({ DATABASE_URL: proxied, DOORSTEP_SNAPSHOT_MAX_AGE_MS: '600000' });
    nodes = [
      { name: 'A', url: `http://127.0.0.1:${portA}`, knownUsers: [], warmedAt: 0 },
      { name: 'B', url: processB.url, knownUsers: [], warmedAt: 0 },
    ];

    // Each node serves its known users once: the public key, the snapshot and their profiles are then in its memory.
    for (const node of nodes) {
      node.knownUsers = Array.from({ length: KNOWN_USERS_PER_NODE }, (_, i) => `known-${node.name}-${i}`);
      node.warmedAt = Date.now();
      for (const id of node.knownUsers) {
        const reply = await post(node.url, ws.publicKey, ONBOARDING_DOCUMENT, { user: { id } });
        expect(outcomeOf('known', reply), describeReply(reply)).toBe('ok');
      }
    }

    const send = async (node: TNode, kind: TKind, variables: Record<string, unknown>, events?: TEvent[]) => {
      const started = Date.now();
      const reply = await post(node.url, ws.publicKey, kind === 'track' ? TRACK_DOCUMENT : ONBOARDING_DOCUMENT, variables);
      records.push({ node: node.name, kind, started, ended: Date.now(), outcome: outcomeOf(kind, reply), reply, events });
    };
    // Each client, as an app with the SDK does, tracks batches of events with ids of its own and, at
    // the same time, asks for onboarding: for a user its node knows, then for one never seen.
    const client = async (node: TNode, index: number) => {
      const tracking = async () => {
        for (let round = 0; !stopLoad; round++) {
          const events = Array.from({ length: EVENTS_PER_BATCH }, (_, i) => ({
            id: `${node.name}-${index}-${round}-${i}`, userId: `tracker-${node.name}-${index}`, name: 'page_viewed',
          }));
          await send(node, 'track', { events }, events);
        }
      };
      const serving = async () => {
        for (let round = 0; !stopLoad; round++) {
          await send(node, 'known', { user: { id: node.knownUsers[(index + round) % node.knownUsers.length] } });
          await send(node, 'new', { user: { id: `new-${node.name}-${index}-${round}` } });
        }
      };
      await Promise.all([tracking(), serving()]);
    };
    load = Promise.all(nodes.flatMap((node) => Array.from({ length: CLIENTS_PER_NODE }, (_, index) => client(node, index))));

    await sleep(LOAD_BEFORE_CUT_MS);
    cutAt = Date.now();
    proxy.cut();
    healthDuringCut = await Promise.all(nodes.map(async (node) => (await fetch(`${node.url}/healthz`, { signal: AbortSignal.timeout(5_000) })).status));
    await sleep(cutAt + CUT_MS - Date.now());
    restoredAt = Date.now();
    proxy.restore();
    await sleep(LOAD_AFTER_RESTORE_MS);
    stopLoad = true;
    await load;

    const summary = nodes.map((node) => (['track', 'known', 'new'] as const).map((kind) => {
      const mine = records.filter((r) => r.node === node.name && r.kind === kind);
      const during = mine.filter((r) => phaseOf(r) === 'during');
      const count = (outcome: TOutcome) => during.filter((r) => r.outcome === outcome).length;
      return `${node.name}/${kind}: ${mine.length} sent, during the cut ok=${count('ok')} error=${count('error')} network=${count('network')} wrong=${count('wrong')}`;
    }).join('; ')).join('\n');
    const errors = new Map<string, number>();
    for (const r of records.filter((r) => r.outcome !== 'ok')) {
      const key = `${r.node}/${r.kind} ${describeReply(r.reply).slice(0, 80)}`;
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
    const duplicates = records.filter((r) => r.kind === 'track' && r.outcome === 'ok' && r.reply.body!.data!.track.duplicates > 0).length;
    const logB = processB.output();
    const listenRestoredA = logA.find((entry) => entry.line.includes('LISTEN connection restored'));
    print([
      `[postgres-restart] cut ${cutAt - nodes[0].warmedAt} ms after the warm-up, for ${restoredAt - cutAt} ms`,
      summary,
      `failures: ${JSON.stringify(Object.fromEntries(errors))}`,
      `acknowledged batches with duplicates: ${duplicates}; A committer: ${JSON.stringify(appA.services.events.stats)}`,
      `B log: commit retries=${countLines(logB, 'Committing events failed; retrying')} failed commits=${countLines(logB, 'Events could not be stored')} unexpected=${countLines(logB, 'Unexpected error')}`,
      `A log: commit retries=${countLines(nodeLog('A'), 'Committing events failed; retrying')} failed commits=${countLines(nodeLog('A'), 'Events could not be stored')} unexpected=${countLines(nodeLog('A'), 'Unexpected error')}`
        + ` LISTEN lost=${countLines(nodeLog('A'), 'LISTEN connection lost')} restored=${listenRestoredA ? `${listenRestoredA.at - restoredAt} ms after the restore` : 'not yet'}`,
    ].join('\n'));
  }, 90_000);

  afterAll(async () => {
    stopLoad = true;
    proxy?.restore();
    await load;
    await processB?.stop();
    if (serverA) {
      serverA.closeAllConnections();
      await new Promise((resolve) => serverA.close(resolve));
    }
    await appA?.close();
    await dbA?.close();
    await proxy?.close();
    await direct?.end();
    await setup?.close();
    await target?.drop();
    vi.restoreAllMocks();
  }, 60_000);

  /** Before: answered before the cut. After: sent after the restore. During: everything in between. */
  function phaseOf(record: TRecord): 'before' | 'during' | 'after' {
    if (record.ended < cutAt) return 'before';
    if (record.started > restoredAt) return 'after';
    return 'during';
  }

  const storedCounts = async (ids: string[]) => {
    const { rows } = await direct.query<{ clientEventId: string; n: string }>(
      'SELECT "clientEventId", count(*) AS n FROM "Event" WHERE "environmentId" = $1 AND "clientEventId" = ANY($2::text[]) GROUP BY "clientEventId"',
      [environmentId, ids]);
    return new Map(rows.map((row) => [row.clientEventId, Number(row.n)]));
  };

  it('should have cut the database under load from both nodes', () => {
    for (const node of nodes) {
      const mine = records.filter((r) => r.node === node.name);
      expect(mine.filter((r) => phaseOf(r) === 'before' && r.kind === 'track' && r.outcome === 'ok').length).toBeGreaterThan(0);
      expect(mine.filter((r) => phaseOf(r) === 'during' && r.kind === 'track').length).toBeGreaterThan(0);
      expect(mine.filter((r) => phaseOf(r) === 'after').length).toBeGreaterThan(0);
    }
    // New users need the database: the cut did reach them.
    expect(records.filter((r) => r.kind === 'new' && r.outcome !== 'ok').length).toBeGreaterThan(0);
  });

  it('should answer every request with its data or an error, never with anything else', () => {
    const unexpected = records.filter((r) => r.outcome === 'wrong' || r.outcome === 'network');
    expect(unexpected.map((r) => `${r.node}/${r.kind} ${phaseOf(r)}: ${describeReply(r.reply)}`)).toEqual([]);
    // Errors only while the database was away, or for requests caught by it.
    const failedOutside = records.filter((r) => r.outcome !== 'ok' && phaseOf(r) === 'before');
    expect(failedOutside.map((r) => `${r.node}/${r.kind}: ${describeReply(r.reply)}`)).toEqual([]);
  });

  it('should store every event of every acknowledged track request exactly once', async () => {
    const acknowledged = records.filter((r) => r.kind === 'track' && r.outcome === 'ok');
    const ids = acknowledged.flatMap((r) => r.events!.map((e) => e.id));
    const stored = await storedCounts(ids);
    // Those answered while the database was away included: acknowledged only once stored.
    expect(ids.filter((id) => stored.get(id) !== 1)).toEqual([]);
  });

  it('should answer /healthz during the outage and serve again within seconds of the restore, without restarting either node', async () => {
    expect(healthDuringCut).toEqual([200, 200]);
    for (const node of nodes) {
      const health = await fetch(`${node.url}/healthz`);
      expect(health.status).toBe(200);
      // Whatever still failed at the end of the load, both kinds of users are served again.
      const { tookMs } = await waitFor(`node ${node.name} serving a new user`, async () => {
        const reply = await post(node.url, ws.publicKey, ONBOARDING_DOCUMENT, { user: { id: `recovered-${node.name}-${Date.now()}` } });
        return outcomeOf('new', reply) === 'ok';
      }, RECOVERY_DEADLINE_MS);
      expect(tookMs).toBeLessThan(RECOVERY_DEADLINE_MS);
      const known = await post(node.url, ws.publicKey, ONBOARDING_DOCUMENT, { user: { id: node.knownUsers[0] } });
      expect(outcomeOf('known', known), describeReply(known)).toBe('ok');
    }
    // Both nodes are the ones started before the cut: node B started once and is still up.
    expect(countLines(processB.output(), 'Doorstep API on')).toBe(1);
    // Every request sent a second after the restore was answered, and answered well.
    const late = records.filter((r) => r.started > restoredAt + 1_000);
    expect(late.length).toBeGreaterThan(0);
    expect(late.filter((r) => r.outcome !== 'ok').map((r) => `${r.node}/${r.kind}: ${describeReply(r.reply)}`)).toEqual([]);
  });

  it('should serve the users it already knew from memory while the database is away', () => {
    // The key, the snapshot and the profiles were cached at the warm-up: the key expires first.
    for (const node of nodes) expect(restoredAt - node.warmedAt).toBeLessThan(KEY_CACHE_TTL_MS);
    const known = records.filter((r) => r.kind === 'known');
    expect(known.filter((r) => phaseOf(r) === 'during').length).toBeGreaterThan(0);
    expect(known.filter((r) => r.outcome !== 'ok').map((r) => `${r.node} ${phaseOf(r)}: ${describeReply(r.reply)}`)).toEqual([]);
  });

  it('should store every event exactly once once clients retry their failed batches with the same ids', async () => {
    const failed = records.filter((r) => r.kind === 'track' && r.outcome !== 'ok');
    let storedBefore = 0;
    for (const record of failed) {
      const node = nodes.find((n) => n.name === record.node)!;
      const { value: reply } = await waitFor(`a retried batch on node ${node.name}`, async () => {
        const retried = await post(node.url, ws.publicKey, TRACK_DOCUMENT, { events: record.events });
        return outcomeOf('track', retried) === 'ok' && retried;
      }, RECOVERY_DEADLINE_MS);
      if (reply.body!.data!.track.duplicates > 0) storedBefore++;
    }
    print(`[postgres-restart] ${failed.length} failed batches retried; ${storedBefore} of them had been stored before their request failed`);
    const ids = records.filter((r) => r.kind === 'track').flatMap((r) => r.events!.map((e) => e.id));
    const stored = await storedCounts(ids);
    expect(ids.filter((id) => stored.get(id) !== 1)).toEqual([]);
    const { rows } = await direct.query<{ n: string }>('SELECT count(*) AS n FROM "Event" WHERE "environmentId" = $1 AND "userId" LIKE \'tracker-%\'', [environmentId]);
    expect(Number(rows[0].n)).toBe(ids.length);
  });

  it('should carry a publish through either node to the other within two seconds once its LISTEN connection is back', async () => {
    for (const node of nodes) {
      // Lost at the cut, restored after it: once each.
      await waitFor(`node ${node.name}'s LISTEN connection restored`, async () => countLines(nodeLog(node.name), 'LISTEN connection restored') >= 1, RECOVERY_DEADLINE_MS);
      expect(countLines(nodeLog(node.name), 'LISTEN connection restored')).toBe(1);
    }
    const gqlOf = (node: TNode) => async (key: string, query: string, variables?: Record<string, unknown>) => {
      const reply = await post(node.url, key, query, variables ?? {});
      return reply.body ?? { errors: [{ message: describeReply(reply) }] };
    };
    const titleOn = async (node: TNode) => {
      const reply = await post(node.url, ws.publicKey, ONBOARDING_DOCUMENT, { user: { id: `reader-${node.name}` } });
      return reply.body?.data?.onboarding?.welcome?.title as string | undefined;
    };
    for (const [from, to] of [[nodes[0], nodes[1]], [nodes[1], nodes[0]]]) {
      const title = `Published through ${from.name} after the restart`;
      await publishTitle(gqlOf(from), ws.secretKey, title);
      expect(await titleOn(from)).toBe(title);
      const { tookMs } = await waitFor(`node ${to.name} serving a publish through node ${from.name}`, async () => (await titleOn(to)) === title, 2_000);
      expect(tookMs).toBeLessThan(2_000);
    }
  });
});
