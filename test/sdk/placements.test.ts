import { describe, expect, it } from 'vitest';
import { explain } from '../../sdk/src/debug-view.ts';
import { createDoorstep, memoryStorage } from '../../sdk/src/index.ts';
import { useListeningApi, useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

describe.each(DATABASE_KINDS)('@doorstep/client placements and explain on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);
  const http = useListeningApi(api);

  /** The client's fetch, counting statuses: a 304 shows an answer was reused through its ETag. */
  const client = (statuses: number[] = []) => createDoorstep({
    apiUrl: `${http.origin}/graphql`, publicKey: ws.publicKey, storage: memoryStorage(),
    fetch: async (input, init) => { const response = await fetch(input, init); statuses.push(response.status); return response; },
  });

  it('should get the onboarding of the placement asked for, each answer reused by its own ETag', async () => {
    const statuses: number[] = [];
    const doorstep = client(statuses);
    const user = { id: 'placed' };
    expect(await doorstep.getOnboarding(user, { placement: 'banner' })).toMatchObject({ placement: 'banner', flow: { key: 'whats-new-sharing' } });
    expect(await doorstep.getOnboarding(user)).toMatchObject({ placement: 'main', flow: { key: 'self-serve' } });
    expect(await doorstep.getOnboarding(user, { placement: 'sidebar' })).toBeNull();
    expect(await doorstep.getOnboarding(user, { placement: 'banner' })).toMatchObject({ flow: { key: 'whats-new-sharing' } });
    expect(statuses).toEqual([200, 200, 200, 304]);
    await doorstep.close();
  });

  it('should explain why a flow was not shown: the audience it missed and the flow it was outranked by', async () => {
    const doorstep = client();
    const explained = await explain(doorstep, { id: 'curious-dev', attributes: { role: 'developer' } });
    expect(explained).toMatchObject({ environmentKey: 'production', environmentName: expect.any(String), placement: 'main', flowKey: 'developer-quickstart', version: 1, variant: null });
    const outcome = (key: string) => explained.decisions.find((decision) => decision.flowKey === key);
    expect(outcome('sales-assisted')).toMatchObject({ outcome: 'audience' });
    expect(outcome('self-serve')).toMatchObject({ outcome: 'outranked', detail: 'developer-quickstart' });
    expect(outcome('whats-new-sharing')).toMatchObject({ outcome: 'other_placement', detail: 'banner' });
    expect((await explain(doorstep, { id: 'curious-dev' }, { placement: 'banner' })).flowKey).toBe('whats-new-sharing');
    await doorstep.close();
  });
});
