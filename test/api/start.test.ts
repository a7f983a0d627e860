import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { postGraphQL, startApiProcess, type TApiProcess } from '../support/process.ts';

const SECRET = 'dsk_start-test-secret-key-0123456789abcdef';
const PUBLIC = 'dpk_start-test-public-key-0123456789abcdef';
const SELF_SERVE = '{ onboarding(user: { id: "a", attributes: {} }) { flow { key } } }';

describe('starting the API (pnpm start) on PGlite', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'doorstep-start-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  const start = async (env: Record<string, string>) => {
    const api = await startApiProcess(env);
    cleanups.push(() => api.stop());
    return api;
  };

  it('should migrate, load the demo with the given keys, and answer /healthz', async () => {
    const api = await start({ DOORSTEP_DATA_DIR: dataDir(), DOORSTEP_SEED_SECRET_KEY: SECRET, DOORSTEP_SEED_PUBLIC_KEY: PUBLIC });
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    expect((await postGraphQL(api.url, PUBLIC, SELF_SERVE)).data.onboarding.flow.key).toBe('self-serve');
    expect((await postGraphQL(api.url, SECRET, '{ flows { key } }')).data.flows).toHaveLength(4);
    expect(api.output()).toContain('Loaded the demo workspace');
    expect(api.output()).not.toContain(SECRET);
  });

  it('should print new keys once when none are given, and not seed again on restart', async () => {
    const dir = dataDir();
    let api: TApiProcess = await start({ DOORSTEP_DATA_DIR: dir });
    const publicKey = api.output().match(/public \(production\):\s+(dpk_\S+)/)![1];
    expect((await postGraphQL(api.url, publicKey, SELF_SERVE)).data.onboarding.flow.key).toBe('self-serve');
    await api.stop();
    api = await start({ DOORSTEP_DATA_DIR: dir });
    expect(api.output()).not.toContain('Loaded the demo workspace');
    expect((await postGraphQL(api.url, publicKey, SELF_SERVE)).data.onboarding.flow.key).toBe('self-serve');
  });

  it('should honour seed keys given to a database seeded earlier without them', async () => {
    const dir = dataDir();
    const first = await start({ DOORSTEP_DATA_DIR: dir });
    await first.stop();
    const api = await start({ DOORSTEP_DATA_DIR: dir, DOORSTEP_SEED_SECRET_KEY: SECRET, DOORSTEP_SEED_PUBLIC_KEY: PUBLIC });
    expect((await postGraphQL(api.url, PUBLIC, SELF_SERVE)).data.onboarding.flow.key).toBe('self-serve');
    expect((await postGraphQL(api.url, SECRET, '{ flows { key } }')).data.flows).toHaveLength(4);
  });

  it('should turn GraphiQL and introspection off in production', async () => {
    const api = await start({ DOORSTEP_DATA_DIR: dataDir(), NODE_ENV: 'production', DOORSTEP_SEED_SECRET_KEY: SECRET, DOORSTEP_SEED_PUBLIC_KEY: PUBLIC });
    const introspection = await postGraphQL(api.url, SECRET, '{ __schema { types { name } } }');
    expect(introspection.errors![0].message).toMatch(/introspection/i);
    const page = await fetch(`${api.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/graphiql/i);
  });

  it('should refuse to start with an invalid environment, naming the variable', async () => {
    await expect(startApiProcess({ DOORSTEP_DATA_DIR: dataDir(), DOORSTEP_SEED_PUBLIC_KEY: 'short' })).rejects.toThrow(/DOORSTEP_SEED_PUBLIC_KEY/);
  });
});
