import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressBucket, clientAddress, TrustedProxies } from '../../api/src/limits/client-address.ts';
import { WindowLimiter } from '../../api/src/limits/window-limiter.ts';
import { createPostgresDatabase } from '../support/databases.ts';
import { useListeningApi, useTestApi, useTestWorkspace, type TTestApi } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';
import { invitedMember, MEMBER_PASSWORD, uniqueEmail } from '../support/members.ts';
import { startApiProcess, type TApiProcess } from '../support/process.ts';

const SIGN_IN = `mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) {
  __typename ... on SignedIn { token } ... on Error { code message }
} }`;

/** A sign-in as if from `address`: the listener passes the caller's address to yoga the same way. */
async function signInFrom(api: TTestApi, address: string, email: string, password: string) {
  const response = await api.app.yoga.fetch('http://doorstep.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query: SIGN_IN, variables: { e: email, p: password } }),
  }, { clientAddress: address });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('client addresses', () => {
  const request = (remoteAddress: string, forwardedFor?: string) =>
    ({ socket: { remoteAddress }, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} }) as unknown as IncomingMessage;

  it('should take the forwarded client from a trusted proxy and ignore it from anyone else', () => {
    const proxies = new TrustedProxies();
    expect(clientAddress(request('127.0.0.1', '203.0.113.9'), proxies)).toBe('203.0.113.9');
    expect(clientAddress(request('::ffff:127.0.0.1', '198.51.100.1, 203.0.113.9'), proxies)).toBe('203.0.113.9');
    expect(clientAddress(request('198.51.100.20', '203.0.113.9'), proxies)).toBe('198.51.100.20');
    expect(clientAddress(request('127.0.0.1', 'not-an-address'), proxies)).toBe('127.0.0.1');
    expect(clientAddress(request('10.0.0.5', '203.0.113.9'), new TrustedProxies('10.0.0.0/8'))).toBe('203.0.113.9');
    expect(clientAddress(request('127.0.0.1', '203.0.113.9'), new TrustedProxies('none'))).toBe('127.0.0.1');
  });

  it('should count an IPv6 client by its /64, since it may take any address in it', () => {
    expect(addressBucket('2001:db8:aa:bb:1:2:3:4')).toBe('2001:db8:aa:bb::/64');
    expect(addressBucket('2001:db8:aa:bb::99')).toBe('2001:db8:aa:bb::/64');
    expect(addressBucket('203.0.113.9')).toBe('203.0.113.9');
  });

  it('should refuse a trusted-proxy list that is not addresses or ranges', () => {
    expect(() => new TrustedProxies('10.0.0.0/8,example.com')).toThrow(/example.com/);
  });
});

describe('window limiter', () => {
  it('should refuse past the limit until the window ends, then allow again', () => {
    const limiter = new WindowLimiter('t', { limit: 3, windowMs: 60_000 });
    const start = 1_000 * 60_000 + 15_000;
    expect([1, 2, 3].map(() => limiter.take('a', start))).toEqual([0, 0, 0]);
    expect(limiter.take('a', start)).toBe(45);
    expect(limiter.take('b', start)).toBe(0);
    expect(limiter.take('a', start + 45_000)).toBe(0);
  });

  it('should add what other nodes counted, as the shared table reports it', () => {
    const limiter = new WindowLimiter('t', { limit: 5, windowMs: 60_000 });
    const now = 2_000 * 60_000;
    limiter.take('a', now);
    limiter.take('a', now);
    const rows = limiter.unshared(now);
    expect(rows).toMatchObject([{ key: 't:a', windowStart: now, count: 2 }]);
    limiter.shared(rows[0], 5);
    expect(limiter.take('a', now)).toBeGreaterThan(0);
  });

  it('should keep a bounded number of buckets, dropping the least recently used', () => {
    const limiter = new WindowLimiter('t', { limit: 1, windowMs: 60_000 }, 2);
    const now = 3_000 * 60_000;
    limiter.take('a', now);
    limiter.take('b', now);
    limiter.take('a', now);
    limiter.take('c', now);
    expect(limiter.take('a', now)).toBeGreaterThan(0);
    expect(limiter.take('b', now)).toBe(0);
  });

  it('should still send what a bucket counted when it is evicted before the exchange', () => {
    const limiter = new WindowLimiter('t', { limit: 10, windowMs: 60_000 }, 2);
    const now = 4_000 * 60_000;
    limiter.take('a', now);
    limiter.take('b', now);
    limiter.take('c', now);
    expect(limiter.unshared(now).map((row) => [row.key, row.count]).sort()).toEqual([['t:a', 1], ['t:b', 1], ['t:c', 1]]);
  });

  it('should share a bucket only once it counted 5% of its limit here', () => {
    const limiter = new WindowLimiter('t', { limit: 100, windowMs: 60_000 });
    const now = 5_000 * 60_000;
    for (let i = 0; i < 4; i++) limiter.take('quiet', now);
    expect(limiter.unshared(now)).toEqual([]);
    limiter.take('quiet', now);
    expect(limiter.unshared(now)).toMatchObject([{ key: 't:quiet', count: 5 }]);
  });

  it('should allow everything when its limit is 0', () => {
    const limiter = new WindowLimiter('t', { limit: 0, windowMs: 60_000 });
    expect(Array.from({ length: 100 }, () => limiter.take('a'))).not.toContain(1);
  });
});

describe.each(DATABASE_KINDS)('sign-in slow-down on %s', (kind) => {
  const api = useTestApi(kind, { signInRules: { freeAttempts: 3, maxDelaySeconds: 2, perAddressPerHour: 1_000 } });
  const ws = useTestWorkspace(api);

  it('should answer 429 with Retry-After once wrong passwords from one address pass the free attempts', async () => {
    const { email } = await invitedMember(api, ws.secretKey, 'viewer');
    for (let i = 0; i < 3; i++) expect((await signInFrom(api, '203.0.113.1', email, `wrong ${i}`)).body.data.signIn.code).toBe('UNAUTHENTICATED');
    const refused = await signInFrom(api, '203.0.113.1', email, MEMBER_PASSWORD);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('1');
    expect(refused.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });
    expect(refused.body.errors[0].message).toBe('Too many wrong passwords; try again in 1 second');
  });

  it('should let the account\'s owner sign in from another address meanwhile', async () => {
    const { email } = await invitedMember(api, ws.secretKey, 'viewer');
    for (let i = 0; i < 4; i++) await signInFrom(api, '203.0.113.2', email, `wrong ${i}`);
    expect((await signInFrom(api, '203.0.113.2', email, MEMBER_PASSWORD)).status).toBe(429);
    expect((await signInFrom(api, '198.51.100.2', email, MEMBER_PASSWORD)).body.data.signIn.__typename).toBe('SignedIn');
  });

  it('should double the wait with each further wrong password and clear it after a success', async () => {
    const { email } = await invitedMember(api, ws.secretKey, 'viewer');
    for (let i = 0; i < 3; i++) await signInFrom(api, '203.0.113.3', email, `wrong ${i}`);
    await sleep(1_100);
    expect((await signInFrom(api, '203.0.113.3', email, 'wrong again')).body.data.signIn.code).toBe('UNAUTHENTICATED');
    expect((await signInFrom(api, '203.0.113.3', email, MEMBER_PASSWORD)).retryAfter).toBe('2');
    await sleep(2_100);
    expect((await signInFrom(api, '203.0.113.3', email, MEMBER_PASSWORD)).body.data.signIn.__typename).toBe('SignedIn');
    expect((await signInFrom(api, '203.0.113.3', email, 'wrong after success')).body.data.signIn.code).toBe('UNAUTHENTICATED');
  });

  it('should count tries sent all at once one by one, so that a burst gets no more guesses', async () => {
    const { email } = await invitedMember(api, ws.secretKey, 'viewer');
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => signInFrom(api, '203.0.113.6', email, `burst ${i}`)));
    const checked = answers.filter((answer) => answer.status === 200).length;
    expect(checked).toBeLessThanOrEqual(4);
    expect(answers.filter((answer) => answer.status === 429)).toHaveLength(12 - checked);
  });

  it('should count unknown emails like known ones, so the wait tells nothing', async () => {
    const email = uniqueEmail('nobody');
    for (let i = 0; i < 3; i++) await signInFrom(api, '203.0.113.4', email, `wrong ${i}`);
    expect((await signInFrom(api, '203.0.113.4', email, 'anything')).status).toBe(429);
  });
});

describe('made-up keys', () => {
  const api = useTestApi('pglite', { rateLimits: { runtime: { limit: 1_000, windowMs: 60_000 }, anonymous: { limit: 3, windowMs: 60_000 } } });
  const listening = useListeningApi(api);

  it('should count tokens no node knows as anonymous calls, refused past that limit before the database is asked', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${listening.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.20', authorization: `Bearer dpk_made-up-${i}-0123456789abcdefghijkl` },
        body: JSON.stringify({ query: '{ onboarding(user: { id: "u" }) { version } }' }),
      });
      await response.text();
      statuses.push(response.status);
    }
    expect(statuses.slice(3)).toEqual([429, 429]);
  });
});

describe.each(DATABASE_KINDS)('password spraying on %s', (kind) => {
  const api = useTestApi(kind, { signInRules: { freeAttempts: 100, maxDelaySeconds: 900, perAddressPerHour: 3 } });

  it('should refuse an address that tried wrong passwords on many accounts', async () => {
    for (let i = 0; i < 3; i++) await signInFrom(api, '203.0.113.5', uniqueEmail(`spray${i}`), 'Summer2026!');
    const refused = await signInFrom(api, '203.0.113.5', uniqueEmail('spray'), 'Summer2026!');
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(3_000);
    expect((await signInFrom(api, '198.51.100.5', uniqueEmail('other'), 'Summer2026!')).status).toBe(200);
  });
});

// PostgreSQL only: PGlite answers within the same turn of the event loop, so no timer can fire
// before a query ends there; its limits on documents are what bound a query.
describe('query time budget on postgres', () => {
  const api = useTestApi('postgres', { queryTimeBudgetMs: 1 });
  const ws = useTestWorkspace(api);

  it('should stop a query past its budget with TIMEOUT and a 503', async () => {
    const response = await api.request(ws.secretKey, { query: '{ flows { key versions { number content } segment { key flows { key } } } segments { key } }' });
    const body = await response.json();
    expect(response.status).toBe(503);
    expect(body.errors[0].extensions.code).toBe('TIMEOUT');
    expect(body.errors[0].message).toMatch(/budget/);
  });

  it('should let a mutation run to its end whatever the budget', async () => {
    const body = await api.gql(ws.secretKey, 'mutation { publishFlow(flowKey: "self-serve", environmentKey: "staging") { __typename } }');
    expect(body.data!.publishFlow.__typename).toBe('FlowRelease');
  });
});

/** Rate limits through the listener, shared by two API processes on one PostgreSQL. */
describe('rate limits across two API processes', () => {
  const PUBLIC_KEY = 'dpk_rate-limit-public-key-0123456789abc';
  const ADMIN = { email: 'rate-admin@example.com', password: 'rate-admin-password' };
  let target: Awaited<ReturnType<typeof createPostgresDatabase>>;
  const nodes: TApiProcess[] = [];

  beforeAll(async () => {
    target = await createPostgresDatabase();
    const env = {
      DATABASE_URL: target.url, DOORSTEP_SEED_PUBLIC_KEY: PUBLIC_KEY, DOORSTEP_SEED_ADMIN_EMAIL: ADMIN.email, DOORSTEP_SEED_ADMIN_PASSWORD: ADMIN.password,
      DOORSTEP_RATE_LIMIT_RUNTIME: '10', DOORSTEP_RATE_LIMIT_ANONYMOUS: '10',
    };
    // One after the other: the first seeds the database.
    nodes.push(await startApiProcess(env));
    nodes.push(await startApiProcess(env));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await target?.drop();
  });

  const post = (node: TApiProcess, address: string, body: unknown, key?: string) => fetch(`${node.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address, ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  const onboarding = { query: '{ onboarding(user: { id: "u-1" }) { version } }' };

  /** Windows are whole minutes: a test that could straddle two waits for the next. */
  async function awayFromWindowEdge(): Promise<void> {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 15_000) await sleep(left + 50);
  }

  it('should limit a public key per address over both nodes, with 429 and Retry-After', async () => {
    await awayFromWindowEdge();
    for (const node of nodes) {
      for (let i = 0; i < 4; i++) {
        const response = await post(node, '203.0.113.10', onboarding, PUBLIC_KEY);
        expect(response.status).toBe(200);
        expect((await response.json()).data.onboarding).not.toBeNull();
      }
    }
    await sleep(1_500);
    // 8 of 10 counted over both nodes: two more pass here; once the nodes have exchanged their
    // counts (each second), the eleventh is refused.
    for (let i = 0; i < 2; i++) expect((await post(nodes[0], '203.0.113.10', onboarding, PUBLIC_KEY)).status).toBe(200);
    await sleep(1_500);
    const refused = await post(nodes[0], '203.0.113.10', onboarding, PUBLIC_KEY);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await refused.json()).errors[0].extensions.code).toBe('RATE_LIMITED');
    expect((await post(nodes[1], '198.51.100.10', onboarding, PUBLIC_KEY)).status).toBe(200);
  }, 30_000);

  it('should limit anonymous calls per address over both nodes', async () => {
    await awayFromWindowEdge();
    for (const node of nodes) for (let i = 0; i < 4; i++) expect((await post(node, '203.0.113.11', { query: '{ setupRequired }' })).status).toBe(200);
    await sleep(1_500);
    for (let i = 0; i < 2; i++) expect((await post(nodes[1], '203.0.113.11', { query: '{ setupRequired }' })).status).toBe(200);
    await sleep(1_500);
    const refused = await post(nodes[1], '203.0.113.11', { query: '{ setupRequired }' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await post(nodes[0], '198.51.100.11', { query: '{ setupRequired }' })).status).toBe(200);
  }, 30_000);

  it('should share sign-in failures between nodes', async () => {
    const signIn = (node: TApiProcess, password: string) => post(node, '203.0.113.12', { query: SIGN_IN, variables: { e: ADMIN.email, p: password } });
    for (let i = 0; i < 3; i++) expect((await signIn(nodes[0], `wrong ${i}`)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await signIn(nodes[1], `wrong ${i}`)).status).toBe(200);
    const refused = await signIn(nodes[0], ADMIN.password);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
  });
});
