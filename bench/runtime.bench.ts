/**
 * The runtime at load: `onboarding` and `track` as `@doorstep/client` sends them, through the built
 * API process (production mode) on PostgreSQL and on PGlite, each next to a raw node:http server
 * writing the same bytes, measured in the same run. Servers on core 0, this load generator on core 1
 * (taskset). Figures are ratios because the machines are shared and noisy. Writes bench/results.md.
 *
 * `BENCH_DURATION_S` (default 5) sets the seconds per case; `BENCH_CASES` a comma-separated subset
 * of: distinct, returning, etag, track, flows, nodes, pglite, limits.
 *
 * Every user comes from an address of its own (X-Forwarded-For, which the API believes from loopback),
 * so rate limits count as many buckets as in real traffic; the runtime limit is raised above what
 * this synthetic load sends per user, and the `limits` case measures what counting costs.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ONBOARDING_DOCUMENT, TRACK_DOCUMENT } from '../sdk/src/documents.ts';
import { freePort, REPO_ROOT } from '../test/support/process.ts';
import { CONNECTIONS, DURATION_S, graphql, hasTaskset, measure, pinned, runtimeBuildOf, waitUntilUp, type TResult } from './support.ts';

const ALL_CASES = ['distinct', 'returning', 'etag', 'track', 'flows', 'nodes', 'pglite', 'limits'];
const CASES = new Set((process.env.BENCH_CASES ?? ALL_CASES.join(',')).split(','));
const ADMIN_URL = process.env.DOORSTEP_BENCH_POSTGRES_URL ?? 'postgresql://root@127.0.0.1:5432/postgres';
const PUBLIC_KEY = 'dpk_bench-public-key-0123456789abcdefghij';
const SECRET_KEY = 'dsk_bench-secret-key-0123456789abcdefghij';
const DISTINCT_USERS = 50_000;
const RETURNING_USERS = 200;

/**
 * The same selection as the client's document, written as another app might: `@include` makes the
 * runtime path leave it to yoga, so this measures the general pipeline.
 */
const YOGA_DOCUMENT = ONBOARDING_DOCUMENT.replace('DoorstepOnboarding', 'AppOnboarding').replace('progress {', 'progress @include(if: true) {');

const LOCALES = ['en', 'de', 'fr', 'es', 'pt-BR', 'ja', null];
const ROLES = ['admin', 'analyst', 'engineer', 'marketer', null];
const PLANS = ['free', 'trial', 'pro', 'enterprise'];
const run = randomBytes(3).toString('hex');
/** Users with mixed attributes and locales; most requests of the distinct case are a user's first. */
function userRequest(i: number, document: string, cohort = ''): string {
  const attributes: Record<string, unknown> = { plan: PLANS[i % 4], companySize: (i * 37) % 2000, country: ['US', 'DE', 'FR', 'BR', 'JP'][i % 5] };
  const role = ROLES[i % 5];
  if (role) attributes.role = role;
  return JSON.stringify({ query: document, variables: { user: { id: `user-${run}${cohort}-${i}`, attributes }, locale: LOCALES[i % 7] } });
}

const results: TResult[] = [];
const baselines = new Map<string, number>();
const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];

/** Counting on, refusing never: 200 returning users send far more per minute than real users do. */
const BENCH_LIMITS = { DOORSTEP_RATE_LIMIT_RUNTIME: '100000000', DOORSTEP_RATE_LIMIT_ANONYMOUS: '100000000' };

async function startApi(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const child = pinned(process.execPath, ['api/dist/main.js'], {
    DOORSTEP_API_PORT: String(port), DOORSTEP_API_HOST: '127.0.0.1', NODE_ENV: 'production',
    DOORSTEP_SEED_PUBLIC_KEY: PUBLIC_KEY, DOORSTEP_SEED_SECRET_KEY: SECRET_KEY, ...env,
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilUp(`${url}/healthz`);
  return url;
}

async function raw(name: string, size: number, status = 200): Promise<void> {
  const port = await freePort();
  const child = pinned(process.execPath, ['--import', 'tsx', 'bench/raw-baseline.ts', String(size), String(status)], { PORT: String(port) });
  await waitUntilUp(`http://127.0.0.1:${port}/`);
  const body = JSON.stringify({ query: ONBOARDING_DOCUMENT, variables: { user: { id: 'x' } } });
  const result = await measure(name, name, { url: `http://127.0.0.1:${port}/`, expectStatus: status, next: () => ({ body }) });
  child.kill('SIGTERM');
  baselines.set(name, result.rps);
  results.push(result);
}

async function createDatabase(): Promise<string> {
  const name = `doorstep_bench_${run}_${randomBytes(2).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  cleanups.push(async () => {
    const drop = new pg.Client({ connectionString: ADMIN_URL });
    await drop.connect();
    await drop.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await drop.end();
  });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const addressOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const asUser = (key: string, i: number) => ({ ...auth(key), 'x-forwarded-for': addressOf(i) });

async function answerSize(apiUrl: string): Promise<number> {
  const response = await fetch(`${apiUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(PUBLIC_KEY) }, body: userRequest(1, ONBOARDING_DOCUMENT) });
  const text = await response.text();
  if (text.includes('"errors"') || !text.includes('"onboarding":{')) throw new Error(`Bench request failed: ${text}`);
  return text.length;
}

let distinctRuns = 0;
function distinct(apiUrl: string, label: string, document: string, db: string): Promise<TResult> {
  // Requests walk the users in order: within a run no user comes back unless it passes 50,000.
  // Users of their own for each run, so that every run meets them for the first time.
  const cohort = `-d${distinctRuns++}`;
  const requests = Array.from({ length: DISTINCT_USERS }, (_, i) => ({ body: userRequest(i, document, cohort), headers: asUser(PUBLIC_KEY, i) }));
  let next = 0;
  return measure(`${label}, ${DISTINCT_USERS.toLocaleString('en')} distinct users (${db})`, 'raw, same bytes', {
    url: `${apiUrl}/graphql`, next: () => requests[next++ % requests.length],
  });
}

async function returning(apiUrl: string, label: string, document: string, key = PUBLIC_KEY): Promise<TResult> {
  const requests = Array.from({ length: RETURNING_USERS }, (_, i) => ({ body: userRequest(DISTINCT_USERS + i, document), headers: asUser(key, DISTINCT_USERS + i) }));
  let next = 0;
  return measure(`${label}, ${RETURNING_USERS} returning users`, 'raw, same bytes', {
    url: `${apiUrl}/graphql`, next: () => requests[next++ % requests.length],
  });
}

async function unchanged(apiUrl: string, label: string, document: string): Promise<TResult> {
  const requests = await Promise.all(Array.from({ length: RETURNING_USERS }, async (_, i) => {
    const body = userRequest(DISTINCT_USERS + i, document);
    // Twice: the first request of a document takes yoga's path, with its own ETag.
    await fetch(`${apiUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(PUBLIC_KEY) }, body });
    const response = await fetch(`${apiUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(PUBLIC_KEY) }, body });
    await response.text();
    return { body, headers: { ...asUser(PUBLIC_KEY, DISTINCT_USERS + i), 'if-none-match': response.headers.get('etag')! } };
  }));
  let next = 0;
  return measure(`${label}, unchanged (304)`, 'raw 304', { url: `${apiUrl}/graphql`, expectStatus: 304, next: () => requests[next++ % requests.length] });
}

async function track(apiUrl: string): Promise<TResult> {
  let user = 0;
  const result = await measure('track, 20 events a request (PostgreSQL)', 'raw, same bytes (track)', {
    url: `${apiUrl}/graphql`,
    next: () => {
      const userId = `tracker-${run}-${user++ % 5000}`;
      const events = Array.from({ length: 20 }, (_, i) => ({ id: randomUUID(), userId, name: i % 5 === 0 ? 'report_viewed' : `custom_event_${i % 7}`, properties: { n: i } }));
      return { body: JSON.stringify({ query: TRACK_DOCUMENT, variables: { events } }), headers: auth(PUBLIC_KEY) };
    },
  });
  return { ...result, name: `${result.name}: ${Math.round(result.rps * 20).toLocaleString('en')} events/s` };
}

/** Flows with an audience nobody in the bench matches, above the demo flows: every request must get past them all. */
async function publishFlows(apiUrl: string, upTo: number, from: number): Promise<void> {
  for (let i = from; i < upTo; i++) {
    const key = `bench-${i}`;
    await graphql(apiUrl, SECRET_KEY, 'mutation($input: SegmentInput!) { createSegment(input: $input) { __typename } }', {
      // Nine in ten require a plan value (the audience index narrows them); one in ten only a range.
      input: { key, name: key, condition: i % 10 === 0 ? { companySize: { $gte: 100_000 + i } } : { plan: `custom-${i}`, companySize: { $gte: i } } },
    });
    await graphql(apiUrl, SECRET_KEY, 'mutation($input: CreateFlowInput!) { createFlow(input: $input) { __typename } }', {
      input: { key, name: key, priority: 1000 + i, audience: { segmentKey: key } },
    });
    await graphql(apiUrl, SECRET_KEY, 'mutation($key: String!) { publishFlow(flowKey: $key, environmentKey: "staging") { __typename } }', { key });
  }
}

async function stagingKey(apiUrl: string): Promise<string> {
  const created = await graphql(apiUrl, SECRET_KEY, 'mutation { createApiKey(input: { name: "bench staging", kind: public, environmentKey: "staging" }) { ... on ApiKeyCreated { secret } } }');
  return created.createApiKey.secret as string;
}

/** Publish through one node, poll the other until it serves the new version. */
async function publishToServed(apiA: string, apiB: string): Promise<number[]> {
  const samples: number[] = [];
  const body = JSON.stringify({ query: '{ onboarding(user: { id: "propagation" }) { version } }' });
  const served = async () => {
    const response = await fetch(`${apiB}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(PUBLIC_KEY) }, body });
    return ((await response.json()) as { data: { onboarding: { version: number } } }).data.onboarding.version;
  };
  for (let i = 0; i < 5; i++) {
    const before = await served();
    const draft = await graphql(apiA, SECRET_KEY, '{ flow(key: "self-serve") { draft { revision content } } }');
    const content = { ...draft.flow.draft.content, welcome: { ...draft.flow.draft.content.welcome, title: `Welcome (${i})` } };
    await graphql(apiA, SECRET_KEY, 'mutation($content: JSON!, $revision: Int!) { saveDraft(flowKey: "self-serve", content: $content, revision: $revision) { __typename } }', {
      content, revision: draft.flow.draft.revision,
    });
    const started = performance.now();
    await graphql(apiA, SECRET_KEY, 'mutation { publishFlow(flowKey: "self-serve", environmentKey: "production") { __typename } }');
    while ((await served()) === before) {
      if (performance.now() - started > 10_000) throw new Error('The other node did not serve the publish within 10 s');
    }
    samples.push(performance.now() - started);
  }
  return samples;
}

const extraLines: string[] = [];
try {
  runtimeBuildOf();
  const pgUrl = await createDatabase();
  const apiUrl = await startApi({ DATABASE_URL: pgUrl, ...BENCH_LIMITS });
  const size = await answerSize(apiUrl);
  const trackSize = 60;
  await raw('raw, same bytes', size);
  if (CASES.has('etag')) await raw('raw 304', 0, 304);

  if (CASES.has('distinct')) {
    results.push(await distinct(apiUrl, 'onboarding, client document', ONBOARDING_DOCUMENT, 'PostgreSQL'));
    results.push(await distinct(apiUrl, 'onboarding, same selection via yoga', YOGA_DOCUMENT, 'PostgreSQL'));
  }
  if (CASES.has('returning')) {
    results.push(await returning(apiUrl, 'onboarding, client document', ONBOARDING_DOCUMENT));
    results.push(await returning(apiUrl, 'onboarding, same selection via yoga', YOGA_DOCUMENT));
  }
  if (CASES.has('etag')) {
    results.push(await unchanged(apiUrl, 'onboarding, client document', ONBOARDING_DOCUMENT));
    results.push(await unchanged(apiUrl, 'onboarding, same selection via yoga', YOGA_DOCUMENT));
  }
  if (CASES.has('track')) {
    await raw('raw, same bytes (track)', trackSize);
    results.push(await track(apiUrl));
  }
  if (CASES.has('flows')) {
    const key = await stagingKey(apiUrl);
    let published = 0;
    for (const count of [10, 100, 1000]) {
      await publishFlows(apiUrl, count, published);
      published = count;
      const result = await returning(apiUrl, `onboarding, ${count} flows and segments before the match`, ONBOARDING_DOCUMENT, key);
      results.push(result);
    }
    const [ten, , thousand] = results.slice(-3);
    extraLines.push(`p50 at 1,000 flows: ${thousand.p50} ms, at 10: ${ten.p50} ms (${(thousand.p50 / Math.max(ten.p50, 1)).toFixed(2)}x; target at most 1.5x)`);
  }
  if (CASES.has('nodes')) {
    const apiB = await startApi({ DATABASE_URL: pgUrl, ...BENCH_LIMITS });
    const samples = (await publishToServed(apiUrl, apiB)).sort((a, b) => a - b);
    extraLines.push(`Publish through one node to served by the other (5 publishes): median ${samples[2].toFixed(0)} ms, max ${samples[4].toFixed(0)} ms (target under 1 s)`);
  }
  if (CASES.has('limits')) {
    // The same database and users through a node that counts nothing (limits at 0), in turns: returning
    // users (few buckets, counting only) and distinct users (a new bucket per request, shared with the
    // table every second).
    const apiOff = await startApi({ DATABASE_URL: pgUrl, DOORSTEP_RATE_LIMIT_RUNTIME: '0', DOORSTEP_RATE_LIMIT_ANONYMOUS: '0' });
    const rps = (list: TResult[]) => list.reduce((sum, r) => sum + r.rps, 0) / list.length;
    for (const [label, run] of [
      ['returning users', (url: string, name: string) => returning(url, name, ONBOARDING_DOCUMENT)],
      ['distinct users', (url: string, name: string) => distinct(url, name, ONBOARDING_DOCUMENT, 'PostgreSQL')],
    ] as const) {
      const on: TResult[] = [];
      const off: TResult[] = [];
      for (let round = 0; round < 3; round++) {
        on.push(await run(apiUrl, 'onboarding, client document, rate limits counting'));
        off.push(await run(apiOff, 'onboarding, client document, rate limits off'));
      }
      results.push(on[2], off[2]);
      extraLines.push(`Rate limits counting vs off, ${label} (3 rounds each, in turns): ${(rps(on) / rps(off)).toFixed(3)}x the throughput (target at least 0.95x)`);
    }
  }
  if (CASES.has('pglite')) {
    const dataDir = mkdtempSync(join(tmpdir(), 'doorstep-bench-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const pgliteUrl = await startApi({ DOORSTEP_DATA_DIR: dataDir, ...BENCH_LIMITS });
    results.push(await distinct(pgliteUrl, 'onboarding, client document', ONBOARDING_DOCUMENT, 'PGlite'));
    results.push(await distinct(pgliteUrl, 'onboarding, same selection via yoga', YOGA_DOCUMENT, 'PGlite'));
  }

  const rows = results.map((r) => {
    const base = baselines.get(r.baseline)!;
    return `| ${r.name} | ${r.rps.toFixed(0)} | ${(r.rps / base).toFixed(3)}x | ${r.p50} | ${r.p99} | ${r.failed} of ${r.requests} |`;
  });
  const packageVersion = (pkg: string) => {
    try { return JSON.parse(readFileSync(join(REPO_ROOT, 'api', 'node_modules', pkg, 'package.json'), 'utf8')).version as string; } catch { return '?'; }
  };
  const postgresVersion = await (async () => {
    const client = new pg.Client({ connectionString: ADMIN_URL });
    await client.connect();
    const { rows: [row] } = await client.query('SHOW server_version');
    await client.end();
    return row.server_version as string;
  })();
  const report = [
    '# Runtime benchmark',
    '',
    `Run ${new Date().toISOString()} by \`pnpm bench\` on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, PostgreSQL ${postgresVersion},`,
    `graphql-yoga ${packageVersion('graphql-yoga')}, Prisma ${packageVersion('@prisma/client')}, PGlite ${packageVersion('@electric-sql/pglite')}.`,
    `${DURATION_S} s per case after 1 s of warm-up, ${CONNECTIONS} connections, ${hasTaskset ? 'servers on core 0 and the load generator on core 1' : 'cores not pinned (no taskset)'};`,
    `every response body is read, and a GraphQL error (status 200) or an unexpected status counts as failed.`,
    `The API runs the production build (\`api/dist/main.js\`, NODE_ENV=production). "vs raw" divides by a raw node:http`,
    `server writing the same number of bytes (or a 304), measured in the same run.`,
    '',
    '| case | req/s | vs raw | p50 ms | p99 ms | failed |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    ...extraLines.map((line) => `- ${line}`),
    '',
  ].join('\n');
  console.log(`\n${report}`);
  if (ALL_CASES.every((c) => CASES.has(c))) writeFileSync(join(REPO_ROOT, 'bench', 'results.md'), report);
} finally {
  for (const child of children) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  for (const cleanup of cleanups) await cleanup().catch(() => undefined);
}
