import { describe, expect, it } from 'vitest';
import { createDoorstep, createOnboarding, memoryStorage, type TDoorstepOptions, type TOnboardingState } from '../../sdk/src/index.ts';
import type { TQueueStorage } from '../../sdk/src/storage.ts';
import { useListeningApi, useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';
import { TestEventSource } from '../support/event-source.ts';

/** The real fetch, counting requests and able to fail the next ones as a network outage would. */
function countingFetch() {
  const bodies: string[] = [];
  let failNext = 0;
  const fetchImpl: typeof fetch = async (input, init) => {
    bodies.push(String(init?.body ?? ''));
    if (failNext > 0) {
      failNext--;
      throw new TypeError('fetch failed: network down');
    }
    return fetch(input, init);
  };
  return { fetchImpl, bodies, failNextRequests: (count: number) => { failNext = count; } };
}

describe.each(DATABASE_KINDS)('guests in @doorstep/client on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);
  const http = useListeningApi(api);

  const client = (options: Partial<TDoorstepOptions> = {}) =>
    createDoorstep({ apiUrl: `${http.origin}/graphql`, publicKey: ws.publicKey, storage: memoryStorage(), flushIntervalMs: 10, retryBaseMs: 20, retryMaxMs: 100, ...options });
  const until = async (check: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await check()).toBe(true);
  };

  it('should send no request and write nothing to storage before start() with deferStart, then send what waited', async () => {
    const network = countingFetch();
    const writes: string[] = [];
    const backing = memoryStorage();
    const storage: TQueueStorage = { ...backing, setItem: (key, value) => { writes.push(key); backing.setItem(key, value); } };
    const doorstep = client({ fetch: network.fetchImpl, storage, deferStart: true, EventSource: TestEventSource });
    const streams = () => TestEventSource.opened.filter((source) => source.url.includes(ws.publicKey)).length;
    const guest = { id: doorstep.guestId() };
    const onboarding = createOnboarding(doorstep, guest);
    doorstep.track(guest, { name: 'flow_started', flowKey: 'self-serve' });
    const stop = doorstep.subscribe(() => undefined);
    await doorstep.flush();
    await new Promise((r) => setTimeout(r, 150));
    expect(network.bodies).toEqual([]);
    expect(streams()).toBe(0);
    expect(writes).toEqual([]);
    expect(onboarding.state.status).toBe('loading');

    doorstep.start();
    await until(() => onboarding.state.status === 'ready');
    await until(() => doorstep.pendingEvents === 0);
    expect(onboarding.state.onboarding!.flow.key).toBe('self-serve');
    expect(streams()).toBe(1);
    expect(writes).toContain(`doorstep:guest:${ws.publicKey.slice(0, 16)}`);
    expect(await api.database.db.prisma.event.count({ where: { userId: guest.id, environment: { workspaceId: ws.workspaceId } } })).toBe(1);
    stop();
    await doorstep.close();
  });

  it('should keep one guest id per public key across clients on the same storage', async () => {
    const storage = memoryStorage();
    const first = client({ storage });
    const id = first.guestId();
    expect(id).toMatch(/^guest_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first.guestId()).toBe(id);
    const reloaded = client({ storage });
    expect(reloaded.guestId()).toBe(id);
    await Promise.all([first.close(), reloaded.close()]);
  });

  it("should identify: merge the guest's walk into the user, switch the controller to the user and forget the guest id", async () => {
    const storage = memoryStorage();
    const doorstep = client({ storage });
    const onboarding = createOnboarding(doorstep);
    const guestId = onboarding.user.id;
    expect(guestId).toBe(doorstep.guestId());
    await until(() => onboarding.state.status === 'ready');
    onboarding.start();
    expect(await onboarding.answer('role', 'product')).toBe(true);
    expect(await onboarding.completeStep('about-you')).toBe(true);
    const seen: TOnboardingState[] = [];
    onboarding.subscribe((state) => seen.push(state));

    await onboarding.identify({ id: 'sdk-signed-up' });
    expect(onboarding.user.id).toBe('sdk-signed-up');
    expect(onboarding.state).toMatchObject({ error: null, finished: null, onboarding: { flow: { key: 'self-serve' }, progress: { started: true, completedStepIds: ['about-you'] } } });
    expect(onboarding.state.onboarding!.steps[onboarding.state.stepIndex].id).toBe('install-snippet');
    expect(doorstep.guestId()).not.toBe(guestId);
    const merge = await api.database.db.prisma.guestMerge.findFirst({ where: { guestId, environment: { workspaceId: ws.workspaceId } } });
    expect(merge?.userId).toBe('sdk-signed-up');
    // Events after sign-in are the user's.
    await onboarding.track({ name: 'first_event_received' });
    expect(onboarding.state.onboarding!.progress.completedStepIds).toEqual(['about-you', 'install-snippet']);
    await doorstep.close();
  });

  it('should retry identify through a network outage, and report a guest already merged into someone else', async () => {
    const network = countingFetch();
    const storage = memoryStorage();
    const doorstep = client({ fetch: network.fetchImpl, storage });
    const guestId = doorstep.guestId();
    doorstep.track({ id: guestId }, { name: 'flow_started', flowKey: 'self-serve' });
    network.failNextRequests(2);
    expect(await doorstep.identify('sdk-retried')).toEqual({ merged: true, userId: 'sdk-retried' });
    expect(await api.database.db.prisma.event.count({ where: { userId: 'sdk-retried', environment: { workspaceId: ws.workspaceId } } })).toBe(1);

    // Another tab kept the same guest id and signs in as someone else.
    const otherTab = memoryStorage();
    otherTab.setItem(`doorstep:guest:${ws.publicKey.slice(0, 16)}`, guestId);
    const stale = client({ storage: otherTab });
    await expect(stale.identify('sdk-someone-else')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(stale.guestId()).not.toBe(guestId);
    await Promise.all([doorstep.close(), stale.close()]);
  });
});
