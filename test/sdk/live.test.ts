import { describe, expect, it } from 'vitest';
import { createDoorstep, createOnboarding, memoryStorage, type TChange, type TDoorstepOptions, type TOnboardingState } from '../../sdk/src/index.ts';
import { useListeningApi, useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';
import { TestEventSource } from '../support/event-source.ts';
import { publishTitle } from '../support/publish.ts';
import { openSse } from '../support/sse.ts';

async function until<T>(read: () => T | undefined | null | false, timeoutMs = 1_500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(DATABASE_KINDS)('@doorstep/client live updates on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);
  const http = useListeningApi(api);

  const client = (options: Partial<TDoorstepOptions> = {}) =>
    createDoorstep({ apiUrl: `${http.origin}/graphql`, publicKey: ws.publicKey, storage: memoryStorage(), flushIntervalMs: 10, EventSource: TestEventSource, ...options });
  const streams = () => api.app.services.streams.size;

  it('should call a subscriber when the environment publishes, and stop when unsubscribed', async () => {
    const doorstep = client();
    const changes: TChange[] = [];
    const unsubscribe = doorstep.subscribe((change) => changes.push(change));
    await until(() => streams() === 1);
    expect(TestEventSource.opened.at(-1)!.url).toBe(`${http.origin}/events?key=${ws.publicKey}`);
    await publishTitle(api.gql, ws.secretKey, 'Subscribed');
    const [change] = await until(() => changes.length > 0 && changes);
    expect(change!.etag).toMatch(/^".+"$/);
    unsubscribe();
    await until(() => streams() === 0);
    await publishTitle(api.gql, ws.secretKey, 'Unsubscribed');
    await new Promise((r) => setTimeout(r, 300));
    expect(changes).toHaveLength(1);
    await doorstep.close();
  });

  it('should tell a subscriber what changed while its stream was down, once it reconnects', async () => {
    const doorstep = client();
    const changes: TChange[] = [];
    doorstep.subscribe((change) => changes.push(change));
    await until(() => streams() === 1);
    // A node shutting down ends its streams; the client comes back after the stream's `retry`.
    api.app.services.streams.closeAll();
    await publishTitle(api.gql, ws.secretKey, 'Changed while away');
    expect(changes).toEqual([]);
    await until(() => changes.length > 0, 5_000);
    const now = await openSse(`${http.origin}/events?key=${ws.publicKey}`);
    expect(changes[0]!.etag).toBe((await now.next()).data.etag);
    now.close();
    await doorstep.close();
  });

  it('should reconnect with backoff after the API refused the stream', async () => {
    // A key nobody has: refused (401, so EventSource gives up), then tried again with backoff.
    const doorstep = client({ publicKey: 'dpk_not_yet_a_key_0000000000', retryBaseMs: 50 });
    doorstep.subscribe(() => {});
    await until(() => TestEventSource.opened.filter((source) => source.url.includes('dpk_not_yet')).length >= 3, 3_000);
    expect(streams()).toBe(0);
    await doorstep.close();
    const opened = TestEventSource.opened.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(TestEventSource.opened.length).toBe(opened);
  });

  it('should refetch a live controller\'s onboarding on a publish, and leave one without `live` as it was served', async () => {
    const doorstep = client();
    const user = { id: `live-${kind}`, attributes: {} };
    const live = createOnboarding(doorstep, user, { live: true });
    const still = createOnboarding(doorstep, { id: `still-${kind}`, attributes: {} });
    let liveState: TOnboardingState | null = null;
    let stillState: TOnboardingState | null = null;
    live.subscribe((state) => { liveState = state; });
    still.subscribe((state) => { stillState = state; });
    await until(() => liveState?.status === 'ready' && stillState?.status === 'ready');
    const before = stillState!.onboarding!.welcome.title;
    // One stream: the controller that did not opt in opened nothing.
    await until(() => streams() === 1);
    await publishTitle(api.gql, ws.secretKey, 'Refetched live');
    await until(() => (liveState as TOnboardingState | null)?.onboarding?.welcome.title === 'Refetched live');
    expect(stillState!.onboarding!.welcome.title).toBe(before);
    live.close();
    await until(() => streams() === 0);
    await doorstep.close();
  });
});
