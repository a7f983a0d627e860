import { describe, expect, it } from 'vitest';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

const ONBOARDINGS = `query($user: OnboardingUserInput!, $placements: [String!]) {
  onboardings(user: $user, placements: $placements) { placement flow { key } }
}`;
const ONBOARDING = `query($user: OnboardingUserInput!, $placement: String) { onboarding(user: $user, placement: $placement) { placement flow { key } } }`;
const EXPLAIN = `query($user: OnboardingUserInput!, $placement: String) {
  explainOnboarding(user: $user, placement: $placement) { environmentKey placement flowKey version variant decisions { flowKey placement outcome detail } }
}`;
const TRACK = `mutation($events: [TrackEventInput!]!) { track(events: $events) { accepted } }`;
const CREATE_FLOW = `mutation($input: CreateFlowInput!) { createFlow(input: $input) { __typename ... on Error { message } } }`;
const PUBLISH = `mutation($key: String!) { publishFlow(flowKey: $key, environmentKey: "production") { __typename ... on Error { message } } }`;
const SAVE_PLACEMENT = `mutation($input: PlacementInput!) { savePlacement(input: $input) {
  __typename ... on Placement { key maxShows windowHours cooloffHours } ... on ValidationError { issues { path message } }
} }`;

describe.each(DATABASE_KINDS)('placements on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  let sequence = 0;
  const gql = async (document: string, variables: Record<string, unknown>) => {
    const res = await api.gql(ws.publicKey, document, variables);
    expect(res.errors).toBeUndefined();
    return res.data!;
  };
  const bannerFlow = async (key: string, priority: number, placement = 'banner') => {
    const created = await api.gql(ws.secretKey, CREATE_FLOW, { input: { key, name: key, priority, placement } });
    expect(created.data!.createFlow.__typename).toBe('Flow');
    expect((await api.gql(ws.secretKey, PUBLISH, { key })).data!.publishFlow.__typename).toBe('FlowRelease');
  };
  const caps = async (input: Record<string, unknown>) => {
    const res = await api.gql(ws.secretKey, SAVE_PLACEMENT, { input: { key: 'banner', name: 'Top banner', ...input } });
    expect(res.data!.savePlacement.__typename).toBe('Placement');
  };
  const banner = async (userId: string) => (await gql(ONBOARDING, { user: { id: userId }, placement: 'banner' })).onboarding?.flow.key ?? null;
  const dismiss = async (userId: string, flowKey: string) => {
    await gql(TRACK, { events: [{ id: `dismiss-${++sequence}`, userId, name: 'flow_dismissed', flowKey }] });
  };
  /** Moves a user's serves back in time, as if they had happened `hours` ago, around the API's caches. */
  const age = async (userId: string, hours: number) => {
    await api.app.services.serves.flush();
    await api.database.db.prisma.flowServe.updateMany({
      where: { userId, environment: { workspaceId: ws.workspaceId } }, data: { servedAt: new Date(Date.now() - hours * 3600_000) },
    });
    await api.database.db.prisma.flowProgress.updateMany({
      where: { dismissed: true, profile: { externalId: userId, environment: { workspaceId: ws.workspaceId } } },
      data: { dismissedAt: new Date(Date.now() - hours * 3600_000) },
    });
    api.app.services.profiles.clear();
  };

  it('should serve a banner and the main onboarding side by side in one request', async () => {
    await bannerFlow('spring-sale', 10);
    const served = (await gql(ONBOARDINGS, { user: { id: 'both' } })).onboardings;
    expect(served).toEqual([{ placement: 'main', flow: { key: 'self-serve' } }, { placement: 'banner', flow: { key: 'spring-sale' } }]);
    expect((await gql(ONBOARDINGS, { user: { id: 'both' }, placements: ['banner'] })).onboardings).toEqual([{ placement: 'banner', flow: { key: 'spring-sale' } }]);
    expect((await gql(ONBOARDING, { user: { id: 'both' } })).onboarding).toEqual({ placement: 'main', flow: { key: 'self-serve' } });
  });

  it('should order flows by priority within their placement only', async () => {
    await bannerFlow('low-banner', 1);
    await bannerFlow('high-banner', 500);
    expect(await banner('ranked')).toBe('high-banner');
    // The banner outranks nothing in main, whatever its priority.
    expect((await gql(ONBOARDING, { user: { id: 'ranked' } })).onboarding.flow.key).toBe('self-serve');
  });

  it('should not end a placement because a flow of another placement was finished', async () => {
    await bannerFlow('news', 10);
    await dismiss('finisher', 'self-serve');
    expect((await gql(ONBOARDING, { user: { id: 'finisher' } })).onboarding).toBeNull();
    expect(await banner('finisher')).toBe('news');
  });

  it('should refuse a new flow once the placement showed the most it may within the window, and allow it after', async () => {
    await caps({ maxShows: 1, windowHours: 24 });
    await bannerFlow('first-news', 20);
    await bannerFlow('second-news', 10);
    expect(await banner('capped')).toBe('first-news');
    await dismiss('capped', 'first-news');
    expect(await banner('capped')).toBeNull();
    const explained = (await gql(EXPLAIN, { user: { id: 'capped' }, placement: 'banner' })).explainOnboarding;
    expect(explained.decisions.find((d: { flowKey: string }) => d.flowKey === 'second-news')).toMatchObject({ outcome: 'capped', detail: expect.stringContaining('at most 1') });

    await age('capped', 25);
    expect(await banner('capped')).toBe('second-news');
  });

  it('should keep serving a flow already shown although the cap is reached', async () => {
    await caps({ maxShows: 1, windowHours: 168 });
    await bannerFlow('ongoing', 10);
    expect(await banner('ongoing-user')).toBe('ongoing');
    await api.app.services.serves.flush();
    api.app.services.profiles.clear();
    expect(await banner('ongoing-user')).toBe('ongoing');
  });

  it('should show no new flow during the cool-off after a dismissal, and show one after it', async () => {
    await caps({ cooloffHours: 48 });
    await bannerFlow('tip-one', 20);
    await bannerFlow('tip-two', 10);
    expect(await banner('cooling')).toBe('tip-one');
    await dismiss('cooling', 'tip-one');
    expect(await banner('cooling')).toBeNull();
    const explained = (await gql(EXPLAIN, { user: { id: 'cooling' }, placement: 'banner' })).explainOnboarding;
    expect(explained.decisions.map((d: { flowKey: string; outcome: string }) => [d.flowKey, d.outcome])).toEqual(expect.arrayContaining([
      ['tip-one', 'dismissed'], ['tip-two', 'cooling_off'], ['self-serve', 'other_placement'],
    ]));

    await age('cooling', 47);
    expect(await banner('cooling')).toBeNull();
    await age('cooling', 49);
    expect(await banner('cooling')).toBe('tip-two');
  });

  it('should explain every published flow without recording a serve', async () => {
    const explained = (await gql(EXPLAIN, { user: { id: 'curious', attributes: { companySize: 5000 } } })).explainOnboarding;
    expect(explained).toMatchObject({ environmentKey: 'production', placement: 'main', flowKey: 'sales-assisted', version: 1, variant: null });
    expect(explained.decisions[0]).toMatchObject({ flowKey: 'sales-assisted', outcome: 'served' });
    // The seeded banner shows in another placement; the other main flows lose on audience or rank.
    const others = explained.decisions.slice(1).filter((d: { placement: string }) => d.placement === 'main').map((d: { outcome: string }) => d.outcome);
    expect(others.length).toBeGreaterThan(0);
    expect(others.every((o: string) => o === 'outranked' || o === 'audience')).toBe(true);
    await api.app.services.serves.flush();
    expect(await api.database.db.prisma.flowServe.count({ where: { userId: 'curious', environment: { workspaceId: ws.workspaceId } } })).toBe(0);
  });

  it('should refuse placement names that are not keys, and more than 20 placements at once', async () => {
    const bad = await api.gql(ws.publicKey, ONBOARDING, { user: { id: 'u' }, placement: 'Top Banner!' });
    expect(bad.errors?.[0].extensions?.code).toBe('VALIDATION');
    const many = await api.gql(ws.publicKey, ONBOARDINGS, { user: { id: 'u' }, placements: Array.from({ length: 21 }, (_, i) => `slot-${i}`) });
    expect(many.errors?.[0].extensions?.code).toBe('VALIDATION');
    const invalidCaps = await api.gql(ws.secretKey, SAVE_PLACEMENT, { input: { key: 'banner', name: 'Banner', maxShows: 0 } });
    expect(invalidCaps.data!.savePlacement.issues[0].path).toBe('maxShows');
  });
});
