import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDoorstep, memoryStorage, type TClientProblem, type TDoorstepOptions } from '../../sdk/src/index.ts';
import { useListeningApi, useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

/** The real fetch, with a way to make calls fail as a flaky network would, and a log of statuses. */
function networkFetch() {
  const statuses: number[] = [];
  let failNext = 0;
  let loseAnswers = 0;
  const fetchImpl: typeof fetch = async (input, init) => {
    if (failNext > 0) {
      failNext--;
      throw new TypeError('fetch failed: network down');
    }
    const response = await fetch(input, init);
    statuses.push(response.status);
    if (loseAnswers > 0) {
      // The request reached the API, but its answer never reaches the client.
      loseAnswers--;
      await response.text();
      throw new TypeError('fetch failed: connection reset');
    }
    return response;
  };
  return {
    fetchImpl, statuses,
    failNextRequests: (count: number) => { failNext = count; },
    loseNextAnswers: (count: number) => { loseAnswers = count; },
  };
}

describe.each(DATABASE_KINDS)('@doorstep/client on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);
  const http = useListeningApi(api);

  const client = (options: Partial<TDoorstepOptions> = {}) =>
    createDoorstep({ apiUrl: `${http.origin}/graphql`, publicKey: ws.publicKey, storage: memoryStorage(), flushIntervalMs: 10, retryBaseMs: 20, retryMaxMs: 100, ...options });
  /** Events the client sent and the API stored (not those the server derived from them). */
  const storedEvents = (userId: string) =>
    api.database.db.prisma.event.count({ where: { userId, environment: { workspaceId: ws.workspaceId }, NOT: { clientEventId: { startsWith: 'derived:' } } } });

  it('should get the onboarding for a user, and reuse an unchanged answer through its ETag', async () => {
    const network = networkFetch();
    const doorstep = client({ fetch: network.fetchImpl });
    const first = await doorstep.getOnboarding({ id: 'sdk-1', attributes: { companySize: 500 } }, { locale: 'fr' });
    expect(first).toMatchObject({ flow: { key: 'sales-assisted' }, version: 1, progress: { started: false } });
    const again = await doorstep.getOnboarding({ id: 'sdk-1', attributes: { companySize: 500 } }, { locale: 'fr' });
    expect(again).toEqual(first);
    expect(network.statuses).toEqual([200, 304]);
    await doorstep.close();
  });

  it('should send queued events in batches and have the server derive progress from them', async () => {
    const network = networkFetch();
    const doorstep = client({ fetch: network.fetchImpl, batchSize: 20, flushIntervalMs: 60_000 });
    const user = { id: 'sdk-2' };
    doorstep.track(user, { name: 'flow_started', flowKey: 'self-serve' });
    for (let i = 0; i < 24; i++) doorstep.track(user, { name: 'page_viewed', properties: { i } });
    await doorstep.flush();
    expect(doorstep.pendingEvents).toBe(0);
    expect(network.statuses).toEqual([200, 200]);
    expect(await storedEvents('sdk-2')).toBe(25);
    expect((await doorstep.getOnboarding(user))!.progress.started).toBe(true);
    await doorstep.close();
  });

  it('should retry after failed requests with backoff, and store each event once', async () => {
    const network = networkFetch();
    const problems: TClientProblem[] = [];
    const doorstep = client({ fetch: network.fetchImpl, onProblem: (p) => problems.push(p) });
    network.failNextRequests(2);
    const user = { id: 'sdk-3' };
    doorstep.track(user, { name: 'flow_started', flowKey: 'self-serve' });
    doorstep.track(user, { name: 'first_event_received' });
    const deadline = Date.now() + 5_000;
    while (doorstep.pendingEvents > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(doorstep.pendingEvents).toBe(0);
    expect(problems.filter((p) => p.kind === 'request-failed')).toHaveLength(2);
    expect(await storedEvents('sdk-3')).toBe(2);
    await doorstep.close();
  });

  it('should resend a batch whose answer was lost without storing its events twice', async () => {
    const network = networkFetch();
    const doorstep = client({ fetch: network.fetchImpl });
    network.loseNextAnswers(1);
    doorstep.track({ id: 'sdk-4' }, { name: 'dashboard_created' });
    const deadline = Date.now() + 5_000;
    while (doorstep.pendingEvents > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(network.statuses).toEqual([200, 200]);
    expect(await storedEvents('sdk-4')).toBe(1);
    await doorstep.close();
  });

  it('should keep at most maxQueuedEvents while offline, drop the oldest and say so', async () => {
    const problems: TClientProblem[] = [];
    const offline: typeof fetch = async () => { throw new TypeError('offline'); };
    const doorstep = client({ fetch: offline, maxQueuedEvents: 5, onProblem: (p) => problems.push(p), flushIntervalMs: 60_000 });
    const ids = Array.from({ length: 8 }, (_, i) => doorstep.track({ id: 'sdk-5' }, { name: 'page_viewed', properties: { i } }));
    expect(doorstep.pendingEvents).toBe(5);
    const dropped = problems.flatMap((p) => (p.kind === 'dropped' ? p.events.map((e) => e.id) : []));
    expect(dropped).toEqual(ids.slice(0, 3));
    doorstep['queue'].stop();
  });

  it('should keep unsent events in storage across a restart and send them from the next client', async () => {
    const storage = memoryStorage();
    const offline: typeof fetch = async () => { throw new TypeError('offline'); };
    const before = client({ fetch: offline, storage, flushIntervalMs: 60_000 });
    before.track({ id: 'sdk-6' }, { name: 'flow_started', flowKey: 'self-serve' });
    before.track({ id: 'sdk-6' }, { name: 'dashboard_created' });
    await before.close();
    expect(before.pendingEvents).toBe(2);
    const after = client({ storage });
    expect(after.pendingEvents).toBe(2);
    await after.flush();
    expect(after.pendingEvents).toBe(0);
    expect(await storedEvents('sdk-6')).toBe(2);
    await after.close();
  });

  it('should drop an event the API refuses, report it, and deliver the rest of its batch', async () => {
    const problems: TClientProblem[] = [];
    const doorstep = client({ onProblem: (p) => problems.push(p), flushIntervalMs: 60_000 });
    doorstep.track({ id: 'sdk-7' }, { name: 'flow_started', flowKey: 'self-serve' });
    doorstep.track({ id: 'sdk-7' }, { name: 'question_answered', flowKey: 'self-serve', questionId: 'role', value: 'astronaut' });
    doorstep.track({ id: 'sdk-7' }, { name: 'dashboard_created' });
    await doorstep.flush();
    await doorstep.flush();
    expect(doorstep.pendingEvents).toBe(0);
    expect(problems).toEqual([expect.objectContaining({ kind: 'rejected', event: expect.objectContaining({ questionId: 'role' }) })]);
    expect(await storedEvents('sdk-7')).toBe(2);
    await doorstep.close();
  });

  it('should drop the events a refused batch names, keep sending the others, and not retry refusals', async () => {
    const secret = (await api.gql(ws.secretKey, 'mutation { enableIdentityVerification(environmentKey: "production") { ... on IdentitySecret { secret } } }'))
      .data!.enableIdentityVerification.secret as string;
    const signed = { id: 'sdk-8', hash: createHmac('sha256', secret).update('sdk-8').digest('hex') };
    const problems: TClientProblem[] = [];
    const network = networkFetch();
    const doorstep = client({ fetch: network.fetchImpl, onProblem: (p) => problems.push(p), flushIntervalMs: 60_000 });
    doorstep.track(signed, { name: 'flow_started', flowKey: 'self-serve' });
    doorstep.track({ id: 'sdk-8-forged' }, { name: 'page_viewed' });
    doorstep.track(signed, { name: 'dashboard_created' });
    await doorstep.flush();
    expect(doorstep.pendingEvents).toBe(0);
    expect(problems).toEqual([expect.objectContaining({ kind: 'rejected', event: expect.objectContaining({ userId: 'sdk-8-forged' }) })]);
    expect(await storedEvents('sdk-8')).toBe(2);
    expect(network.statuses).toEqual([200, 200]);
    await api.gql(ws.secretKey, 'mutation { disableIdentityVerification(environmentKey: "production") { __typename } }');
    await doorstep.close();
  });

  it('should find the bad event of a batch refused without naming it by sending the batch one event at a time', async () => {
    const problems: TClientProblem[] = [];
    const doorstep = client({ onProblem: (p) => problems.push(p), flushIntervalMs: 60_000 });
    doorstep.track({ id: 'sdk-9' }, { name: 'flow_started', flowKey: 'self-serve' });
    // Not a string: GraphQL refuses the whole request (HTTP 400) without saying which event.
    doorstep.track({ id: 'sdk-9' }, { name: 'step_completed', flowKey: 'self-serve', stepId: 42 as unknown as string });
    doorstep.track({ id: 'sdk-9' }, { name: 'dashboard_created' });
    await doorstep.flush();
    expect(doorstep.pendingEvents).toBe(0);
    expect(problems.map((p) => (p.kind === 'rejected' ? p.event.stepId : p.kind))).toEqual([42]);
    expect(await storedEvents('sdk-9')).toBe(2);
    await doorstep.close();
  });

  it('should hold new events back while a failed send backs off, however many arrive', async () => {
    let attempts = 0;
    const offline: typeof fetch = async () => { attempts++; throw new TypeError('offline'); };
    // The first retry comes after 0.5 to 1 s (half the ceiling, plus jitter).
    const doorstep = client({ fetch: offline, batchSize: 5, retryBaseMs: 1_000, retryMaxMs: 1_000, flushIntervalMs: 10 });
    doorstep.track({ id: 'sdk-10' }, { name: 'page_viewed' });
    await doorstep.flush();
    expect(attempts).toBe(1);
    for (let i = 0; i < 30; i++) doorstep.track({ id: 'sdk-10' }, { name: 'page_viewed', properties: { i } });
    await new Promise((r) => setTimeout(r, 300));
    expect(attempts).toBe(1);
    await expect.poll(() => attempts, { timeout: 3_000 }).toBeGreaterThanOrEqual(2);
    doorstep['queue'].stop();
  });

  it('should keep the events another client saved in the same storage instead of overwriting them', async () => {
    const storage = memoryStorage();
    const offline: typeof fetch = async () => { throw new TypeError('offline'); };
    const first = client({ fetch: offline, storage, flushIntervalMs: 60_000 });
    const second = client({ fetch: offline, storage, flushIntervalMs: 60_000 });
    first.track({ id: 'sdk-11' }, { name: 'flow_started', flowKey: 'self-serve' });
    second.track({ id: 'sdk-11' }, { name: 'dashboard_created' });
    first['queue'].stop();
    second['queue'].stop();
    const next = client({ storage });
    expect(next.pendingEvents).toBe(2);
    await next.flush();
    expect(await storedEvents('sdk-11')).toBe(2);
    await next.close();
  });
});
