import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { createApp, type TApp } from '../../api/src/app.ts';
import type { TEventCommitterOptions } from '../../api/src/runtime/event-committer.ts';
import type { TEventStreamLimits } from '../../api/src/runtime/event-streams.ts';
import { seedDemo, type TSeedResult } from '../../api/src/seed.ts';
import { listen } from '../../api/src/server.ts';
import { createTestDatabase, type TDatabaseKind, type TTestDatabase } from './databases.ts';
import { freePort } from './process.ts';

export type TGraphQLResponse<T = any> = { data?: T; errors?: Array<{ message: string; extensions?: Record<string, any> }> };

export type TTestApi = {
  kind: TDatabaseKind;
  app: TApp;
  database: TTestDatabase;
  /** POSTs one operation through yoga.fetch, as a client would, with an optional bearer key. */
  gql<T = any>(key: string | null, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<TGraphQLResponse<T>>;
  request(key: string | null, body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** A new demo workspace with its own keys; dropped again by `dropWorkspace`. */
  createWorkspace(): Promise<TSeedResult>;
  dropWorkspace(workspace: TSeedResult): Promise<void>;
};

/** Starts the API on a fresh database of `kind` for the enclosing describe block. */
export function useTestApi(
  kind: TDatabaseKind, options: { snapshotMaxAgeMs?: number; eventStreamLimits?: TEventStreamLimits; eventCommitter?: TEventCommitterOptions } = {},
): TTestApi {
  const api = { kind } as TTestApi;
  beforeAll(async () => {
    api.database = await createTestDatabase(kind);
    api.app = await createApp({ db: api.database.db, ...options });
  });
  afterAll(async () => {
    await api.app?.close();
    await api.database?.drop();
  });
  api.request = async (key, body, headers = {}) =>
    api.app.yoga.fetch('http://doorstep.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      body: JSON.stringify(body),
    });
  api.gql = async (key, query, variables, headers) => (await api.request(key, { query, variables }, headers)).json();
  api.createWorkspace = () => {
    const suffix = randomBytes(4).toString('hex');
    return seedDemo(api.database.db.prisma, {}, { slug: `test-${suffix}`, name: `Test ${suffix}` });
  };
  api.dropWorkspace = async (workspace) => {
    // Pending first-seen and exposure writes reference the workspace.
    await Promise.all([api.app.services.profiles.flush(), api.app.services.serves.flush()]);
    await api.database.db.prisma.workspace.delete({ where: { id: workspace.workspaceId } });
  };
  return api;
}

/** A demo workspace of its own for every test: created before it, dropped after it. */
export function useTestWorkspace(api: TTestApi): TSeedResult {
  const workspace = {} as TSeedResult;
  beforeEach(async () => { Object.assign(workspace, await api.createWorkspace()); });
  afterEach(async () => { await api.dropWorkspace(workspace); });
  return workspace;
}

/**
 * The test API on a real port, through the production listener, for clients that speak HTTP (the
 * SDK, OpenFeature providers). `origin` is set before the tests run.
 */
export function useListeningApi(api: TTestApi): { origin: string } {
  const listening = { origin: '' };
  let server: Server;
  beforeAll(async () => {
    const port = await freePort();
    server = await listen(api.app, port, '127.0.0.1');
    listening.origin = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  return listening;
}
