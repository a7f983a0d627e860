import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { REPO_ROOT } from '../test/support/process.ts';

export const CONNECTIONS = 32;
export const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
export const hasTaskset = spawnSync('taskset', ['--version']).status === 0;

/** A server process pinned to core 0 (the load generator runs on core 1). */
export function pinned(command: string, args: string[], env: Record<string, string>): ChildProcess {
  const [cmd, argv] = hasTaskset ? ['taskset', ['-c', '0', command, ...args]] : [command, args];
  return spawn(cmd, argv, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function waitUntilUp(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await fetch(url).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

export type TResult = { name: string; rps: number; p50: number; p99: number; failed: number; requests: number; baseline: string };

/**
 * One measured case. Every response is read: a status other than the expected one, or a body with
 * GraphQL errors (which come with status 200), counts as failed.
 */
export async function measure(
  name: string, baseline: string, options: { url: string; expectStatus?: number; next: () => { body: string; headers?: Record<string, string> } },
): Promise<TResult> {
  let failed = 0;
  const expected = options.expectStatus ?? 200;
  const run = (duration: number) => autocannon({
    url: options.url,
    method: 'POST',
    connections: CONNECTIONS,
    duration,
    headers: { 'content-type': 'application/json' },
    requests: [{
      setupRequest: (request) => {
        const next = options.next();
        return { ...request, body: next.body, headers: { ...request.headers, ...next.headers } };
      },
      onResponse: (status, body) => {
        if (status !== expected || (expected === 200 && body.includes('"errors"'))) failed++;
      },
    }],
  });
  await run(1);
  failed = 0;
  const result = await run(DURATION_S);
  return {
    name, baseline, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99,
    failed: failed + result.errors + result.timeouts, requests: result.requests.total,
  };
}

export async function graphql(apiUrl: string, key: string, query: string, variables: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const response = await fetch(`${apiUrl}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }),
  });
  const body = await response.json() as { data?: Record<string, any>; errors?: unknown[] };
  if (body.errors) throw new Error(`Bench request failed: ${JSON.stringify(body.errors)}`);
  return body.data!;
}

export function runtimeBuildOf(): void {
  const built = spawnSync(process.execPath, ['scripts/build-api.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('Building the API failed');
}
