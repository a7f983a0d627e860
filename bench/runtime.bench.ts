/**
 * Runtime hot-path benchmark: `onboarding` through the real API process (PGlite, demo seeds) against a
 * raw node:http baseline serving a body of the same size, measured in the same run. The servers are
 * pinned to core 0 and this load generator to core 1 when taskset exists. Figures are ratios to the
 * baseline because the machines are shared and noisy.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { freePort, REPO_ROOT } from '../test/support/process.ts';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const CONNECTIONS = 32;
const PUBLIC_KEY = 'dpk_bench-public-key-0123456789abcdefghij';
const SECRET_KEY = 'dsk_bench-secret-key-0123456789abcdefghij';
const hasTaskset = spawnSync('taskset', ['--version']).status === 0;

const QUERY = `query($user: OnboardingUserInput!) { onboarding(user: $user) {
  flow { key name } version welcome { title body primaryCta { label url } }
  steps { id kind title body } questions { id prompt kind attribute options { value label } }
  progress { completedStepIds completed } } }`;

function pinned(command: string, args: string[], env: Record<string, string>): ChildProcess {
  const [cmd, argv] = hasTaskset ? ['taskset', ['-c', '0', command, ...args]] : [command, args];
  return spawn(cmd, argv, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

async function waitUntilUp(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await fetch(url).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

async function load(name: string, options: autocannon.Options) {
  await autocannon({ ...options, duration: 1, connections: CONNECTIONS }); // warm-up
  const result = await autocannon({ ...options, duration: DURATION_S, connections: CONNECTIONS });
  const non2xx = result.non2xx + result.errors;
  return { name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx };
}

const ONBOARDINGS = `query($user: OnboardingUserInput!) { onboardings(user: $user, placements: ["main", "banner"]) {
  placement flow { key name } version welcome { title body primaryCta { label url } }
  steps { id kind title body } questions { id prompt kind attribute options { value label } }
  progress { completedStepIds completed } } }`;

/** Publishes three banner flows with caps to staging and returns a public key of staging. */
async function preparePlacements(apiUrl: string): Promise<string> {
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${apiUrl}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET_KEY}` }, body: JSON.stringify({ query, variables }),
    });
    const body = await res.json() as { data?: Record<string, any>; errors?: unknown[] };
    if (body.errors) throw new Error(`Bench setup failed: ${JSON.stringify(body.errors)}`);
    return body.data!;
  };
  await gql('mutation { savePlacement(input: { key: "banner", name: "Banner", maxShows: 2, windowHours: 24, cooloffHours: 48 }) { __typename } }');
  for (const [i, audience] of [null, { condition: { companySize: { $gte: 100 } } }, { condition: { plan: 'pro' } }].entries()) {
    const key = `bench-banner-${i}`;
    await gql('mutation($input: CreateFlowInput!) { createFlow(input: $input) { __typename } }', { input: { key, name: key, priority: 10 - i, placement: 'banner', audience } });
    await gql('mutation($key: String!) { publishFlow(flowKey: $key, environmentKey: "staging") { __typename } }', { key });
  }
  const created = await gql('mutation { createApiKey(input: { name: "bench staging", kind: public, environmentKey: "staging" }) { ... on ApiKeyCreated { secret } } }');
  return created.createApiKey.secret as string;
}

const users = Array.from({ length: 200 }, (_, i) => ({ id: `bench-user-${i}`, attributes: i % 3 === 0 ? { companySize: 500 } : {} }));
const bodies = users.map((user) => JSON.stringify({ query: QUERY, variables: { user } }));
const placementBodies = users.map((user) => JSON.stringify({ query: ONBOARDINGS, variables: { user } }));

const dataDir = mkdtempSync(join(tmpdir(), 'doorstep-bench-'));
const apiPort = await freePort();
// The API as production runs it: the bundle `pnpm start` builds.
const built = spawnSync(process.execPath, ['scripts/build-api.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
if (built.status !== 0) throw new Error('Building the API failed');
const api = pinned(process.execPath, ['api/dist/main.js'], {
  DOORSTEP_API_PORT: String(apiPort), DOORSTEP_API_HOST: '127.0.0.1', DOORSTEP_DATA_DIR: dataDir,
  DOORSTEP_SEED_PUBLIC_KEY: PUBLIC_KEY, DOORSTEP_SEED_SECRET_KEY: SECRET_KEY, NODE_ENV: 'production',
});
const apiUrl = `http://127.0.0.1:${apiPort}`;
const children: ChildProcess[] = [api];

try {
  await waitUntilUp(`${apiUrl}/healthz`);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${PUBLIC_KEY}` };
  const sample = await fetch(`${apiUrl}/graphql`, { method: 'POST', headers, body: bodies[1] });
  const sampleBody = await sample.text();
  const etag = sample.headers.get('etag')!;

  const rawPort = await freePort();
  const raw = pinned(process.execPath, ['--import', 'tsx', 'bench/raw-baseline.ts', String(sampleBody.length)], { PORT: String(rawPort) });
  children.push(raw);
  await waitUntilUp(`http://127.0.0.1:${rawPort}/`);

  // Staging gets the same demo flows plus banner flows with frequency caps, and its own public key:
  // the same request measured with and without other placements, alternately, to cancel drift.
  const stagingKey = await preparePlacements(apiUrl);
  const stagingHeaders = { ...headers, authorization: `Bearer ${stagingKey}` };
  // GraphQL errors come with status 200: each kind of request must answer what it should first.
  for (const [body, requestHeaders, field] of [[bodies[0], stagingHeaders, 'onboarding'], [placementBodies[0], stagingHeaders, 'onboardings']] as const) {
    const answer = await (await fetch(`${apiUrl}/graphql`, { method: 'POST', headers: requestHeaders, body })).json() as { data?: Record<string, unknown>; errors?: unknown };
    if (answer.errors || !answer.data?.[field]) throw new Error(`Bench request failed: ${JSON.stringify(answer)}`);
  }

  let next = 0;
  const everyUser = (name: string, requestHeaders: Record<string, string>, requestBodies = bodies) => load(name, {
    url: `${apiUrl}/graphql`, method: 'POST', headers: requestHeaders,
    requests: [{ setupRequest: (req) => ({ ...req, body: requestBodies[next++ % requestBodies.length] }) }],
  });
  const withoutPlacements: Array<Awaited<ReturnType<typeof load>>> = [];
  const withPlacements: Array<Awaited<ReturnType<typeof load>>> = [];
  const results = [
    await load('raw node:http (baseline)', { url: `http://127.0.0.1:${rawPort}/`, method: 'POST', body: bodies[1], headers }),
    await everyUser('onboarding, 200 users (POST)', headers),
    await load('onboarding, unchanged (304 via ETag)', {
      url: `${apiUrl}/graphql`, method: 'POST', body: bodies[1], headers: { ...headers, 'if-none-match': etag },
    }),
  ];
  for (let round = 0; round < 2; round++) {
    withoutPlacements.push(await everyUser('onboarding, main only', headers));
    withPlacements.push(await everyUser('onboarding, main beside 3 capped banners', stagingHeaders));
  }
  const average = (runs: typeof withPlacements, name: string) => ({
    name, rps: runs.reduce((sum, r) => sum + r.rps, 0) / runs.length, p50: Math.max(...runs.map((r) => r.p50)),
    p99: Math.max(...runs.map((r) => r.p99)), non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
  });
  results.push(average(withoutPlacements, 'onboarding, no other placement (avg 2)'), average(withPlacements, 'onboarding, + 3 capped banners (avg 2)'));
  results.push(await everyUser('onboardings [main, banner], 200 users', stagingHeaders, placementBodies));

  const baseline = results[0].rps;
  console.log(`\nRuntime benchmark: ${DURATION_S}s per case, ${CONNECTIONS} connections, response ${sampleBody.length} B, ${hasTaskset ? 'server on core 0, load on core 1' : 'no taskset: cores not pinned'}`);
  console.log('case'.padEnd(40), 'req/s'.padStart(9), 'vs raw'.padStart(8), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'non-2xx*'.padStart(9));
  for (const r of results) {
    console.log(r.name.padEnd(40), r.rps.toFixed(0).padStart(9), `${(r.rps / baseline).toFixed(3)}x`.padStart(8), String(r.p50).padStart(8), String(r.p99).padStart(8), String(r.non2xx).padStart(9));
  }
  console.log('* autocannon counts 304 Not Modified as non-2xx: there, every response should be one.');
  const [without, withBanners] = results.slice(-3, -1);
  console.log(`Placements: onboarding with 3 capped banner flows published beside main at ${(withBanners.rps / without.rps).toFixed(3)}x the throughput without (target: within 10%).`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
