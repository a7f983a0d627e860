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

const users = Array.from({ length: 200 }, (_, i) => ({ id: `bench-user-${i}`, attributes: i % 3 === 0 ? { companySize: 500 } : {} }));
const bodies = users.map((user) => JSON.stringify({ query: QUERY, variables: { user } }));

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

  let next = 0;
  const results = [
    await load('raw node:http (baseline)', { url: `http://127.0.0.1:${rawPort}/`, method: 'POST', body: bodies[1], headers }),
    await load('onboarding, 200 users (POST)', {
      url: `${apiUrl}/graphql`, method: 'POST', headers,
      requests: [{ setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
    }),
    await load('onboarding, unchanged (304 via ETag)', {
      url: `${apiUrl}/graphql`, method: 'POST', body: bodies[1], headers: { ...headers, 'if-none-match': etag },
    }),
  ];

  const baseline = results[0].rps;
  console.log(`\nRuntime benchmark: ${DURATION_S}s per case, ${CONNECTIONS} connections, response ${sampleBody.length} B, ${hasTaskset ? 'server on core 0, load on core 1' : 'no taskset: cores not pinned'}`);
  console.log('case'.padEnd(40), 'req/s'.padStart(9), 'vs raw'.padStart(8), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'non-2xx*'.padStart(9));
  for (const r of results) {
    console.log(r.name.padEnd(40), r.rps.toFixed(0).padStart(9), `${(r.rps / baseline).toFixed(3)}x`.padStart(8), String(r.p50).padStart(8), String(r.p99).padStart(8), String(r.non2xx).padStart(9));
  }
  console.log('* autocannon counts 304 Not Modified as non-2xx: there, every response should be one.');
} finally {
  for (const child of children) child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
