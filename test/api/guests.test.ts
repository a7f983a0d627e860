import { createHmac, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestApi, useTestWorkspace, type TTestApi } from '../support/api.ts';
import { DATABASE_KINDS, type TDatabaseKind } from '../support/databases.ts';
import { launchedExperiment } from '../support/experiments.ts';

const ONBOARDING = `query($user: OnboardingUserInput!) {
  onboarding(user: $user) { flow { key } version variant progress { started completedStepIds checkedItemIds completed dismissed } }
}`;
const EXPLAIN = 'query($user: OnboardingUserInput!) { explainOnboarding(user: $user) { flowKey variant } }';
const TRACK = 'mutation($events: [TrackEventInput!]!) { track(events: $events) { accepted } }';
const IDENTIFY = 'mutation($g: ID!, $u: ID!, $h: String) { identify(guestId: $g, userId: $u, userHash: $h) { merged userId } }';
const ENABLE = 'mutation { enableIdentityVerification(environmentKey: "production") { ... on IdentitySecret { secret } } }';
const sign = (secret: string, userId: string) => createHmac('sha256', secret).update(userId).digest('hex');
const newGuest = () => `guest_${randomUUID()}`;

function guestSuite(kind: TDatabaseKind, api: TTestApi, ws: { publicKey: string; secretKey: string; workspaceId: string }) {
  let sequence = 0;
  const gql = async (document: string, variables: Record<string, unknown>) => {
    const res = await api.gql(ws.publicKey, document, variables);
    expect(res.errors).toBeUndefined();
    return res.data!;
  };
  const onboarding = async (id: string) => (await gql(ONBOARDING, { user: { id } })).onboarding;
  const track = (userId: string, events: Array<Record<string, unknown>>) =>
    gql(TRACK, { events: events.map((e) => ({ id: `${kind}-evt-${++sequence}`, userId, ...e })) });
  const identify = (guestId: string, userId: string, userHash?: string) => api.gql(ws.publicKey, IDENTIFY, { g: guestId, u: userId, h: userHash ?? null });
  const prisma = () => api.database.db.prisma;
  const inWorkspace = { environment: { workspaceId: ws.workspaceId } };
  const profileOf = (externalId: string) => prisma().userProfile.findFirst({ where: { externalId, ...inWorkspace }, select: { answers: true } });
  const eventsOf = (userId: string) => prisma().event.findMany({ where: { userId, ...inWorkspace }, select: { name: true, stepId: true, clientEventId: true }, orderBy: { timestamp: 'asc' } });
  /** Everything stored about a user, to compare before and after a call. */
  const everything = async (userId: string) => ({
    profile: await profileOf(userId),
    progress: await prisma().flowProgress.findMany({
      where: { profile: { externalId: userId, ...inWorkspace } }, select: { flowId: true, started: true, completedStepIds: true, checkedItemIds: true, version: true },
    }),
    events: (await eventsOf(userId)).length,
    exposures: await prisma().exposure.findMany({ where: { userId, experiment: inWorkspace }, select: { variantKey: true, exposedAt: true } }),
    serves: await prisma().flowServe.findMany({ where: { userId, ...inWorkspace }, select: { flowKey: true, servedAt: true } }),
  });
  /** A user id whose own assignment differs from `variant`, found without recording anything. */
  const userAssignedOtherThan = async (variant: string) => {
    for (let i = 0; i < 100; i++) {
      const id = `signed-up-${kind}-${i}`;
      if ((await gql(EXPLAIN, { user: { id } })).explainOnboarding.variant !== variant) return id;
    }
    throw new Error('no user id lands on another variant');
  };

  it("should merge a guest's progress, answers and variant into the user once", async () => {
    await launchedExperiment(api, ws as never, `guests-${kind}`);
    const guest = newGuest();
    const seen = await onboarding(guest);
    expect(seen.variant).not.toBeNull();
    await track(guest, [
      { name: 'flow_started', flowKey: 'self-serve' },
      { name: 'question_answered', flowKey: 'self-serve', questionId: 'role', value: 'product' },
      { name: 'step_completed', flowKey: 'self-serve', stepId: 'about-you' },
      { name: 'first_event_received' },
    ]);
    const userId = await userAssignedOtherThan(seen.variant);

    expect(await identify(guest, userId)).toEqual({ data: { identify: { merged: true, userId } } });
    const after = await onboarding(userId);
    expect(after).toMatchObject({
      flow: { key: 'self-serve' }, version: seen.version, variant: seen.variant,
      progress: { started: true, completedStepIds: ['about-you', 'install-snippet'], checkedItemIds: ['snippet'] },
    });
    expect((await profileOf(userId))!.answers).toEqual({ role: 'product' });
    expect(await profileOf(guest)).toBeNull();
  });

  it("should keep the user's own answers, and fill gaps from the guest's", async () => {
    const guest = newGuest();
    await track(guest, [
      { name: 'question_answered', flowKey: 'self-serve', questionId: 'role', value: 'product' },
      { name: 'question_answered', flowKey: 'self-serve', questionId: 'company-size', value: 12 },
    ]);
    await track('answered-before', [{ name: 'question_answered', flowKey: 'self-serve', questionId: 'role', value: 'marketing' }]);
    expect((await identify(guest, 'answered-before')).data.identify.merged).toBe(true);
    expect((await profileOf('answered-before'))!.answers).toEqual({ role: 'marketing', companySize: 12 });
  });

  it("should re-attribute the guest's events to the user, derived ones included, once", async () => {
    const guest = newGuest();
    await onboarding(guest);
    await track(guest, [{ name: 'flow_started', flowKey: 'self-serve' }, { name: 'first_event_received' }, { name: 'step_viewed', flowKey: 'self-serve', stepId: 'about-you' }]);
    // The user had done the same thing already: the server derived the same step completion for them.
    await track('events-user', [{ name: 'flow_started', flowKey: 'self-serve' }, { name: 'first_event_received' }]);
    const guestEvents = await eventsOf(guest);
    expect(guestEvents.filter((e) => e.clientEventId.startsWith('derived:'))).toHaveLength(1);

    await identify(guest, 'events-user');
    expect(await eventsOf(guest)).toEqual([]);
    const events = await eventsOf('events-user');
    // 2 + 1 derived of the user's, 3 of the guest's; the guest's derived duplicate is dropped.
    expect(events).toHaveLength(6);
    expect(events.filter((e) => e.name === 'step_completed')).toEqual([
      { name: 'step_completed', stepId: 'install-snippet', clientEventId: expect.stringMatching(/:events-user$/) },
    ]);
  });

  it('should change nothing on a second identify of the same guest and user', async () => {
    await launchedExperiment(api, ws as never, `again-${kind}`);
    const guest = newGuest();
    await onboarding(guest);
    await track(guest, [{ name: 'flow_started', flowKey: 'self-serve' }, { name: 'step_completed', flowKey: 'self-serve', stepId: 'about-you' }]);
    expect((await identify(guest, 'twice')).data.identify).toEqual({ merged: true, userId: 'twice' });
    await api.app.services.serves.flush();
    const before = await everything('twice');
    expect(before.exposures).toHaveLength(1);

    expect((await identify(guest, 'twice')).data.identify).toEqual({ merged: false, userId: 'twice' });
    await api.app.services.serves.flush();
    expect(await everything('twice')).toEqual(before);
    expect(await prisma().guestMerge.count({ where: { guestId: guest } })).toBe(1);
  });

  it('should refuse to merge a guest already merged into another user, with CONFLICT', async () => {
    const guest = newGuest();
    await track(guest, [{ name: 'flow_started', flowKey: 'self-serve' }]);
    await identify(guest, 'first-owner');
    const again = await identify(guest, 'second-owner');
    expect(again.errors![0].extensions).toMatchObject({ code: 'CONFLICT' });
    expect(again.errors![0].message).not.toContain('first-owner');
    expect(await profileOf('second-owner')).toBeNull();
  });

  it('should refuse a source that is not a guest id, and a guest as the target', async () => {
    await track('victim', [{ name: 'question_answered', flowKey: 'self-serve', questionId: 'role', value: 'developer' }]);
    const fromUser = await identify('victim', 'attacker');
    expect(fromUser.errors![0].extensions).toMatchObject({ code: 'VALIDATION', issues: [{ path: 'guestId' }] });
    const intoGuest = await identify(newGuest(), newGuest());
    expect(intoGuest.errors![0].extensions).toMatchObject({ code: 'VALIDATION', issues: [{ path: 'userId' }] });
    expect((await profileOf('victim'))!.answers).toEqual({ role: 'developer' });
    expect(await profileOf('attacker')).toBeNull();
  });

  it('should serve and track guests without a hash under identity verification, and merge only into a signed user', async () => {
    const secret: string = (await api.gql(ws.secretKey, ENABLE)).data!.enableIdentityVerification.secret;
    const guest = newGuest();
    expect((await onboarding(guest)).flow.key).toBe('self-serve');
    expect((await gql(EXPLAIN, { user: { id: guest } })).explainOnboarding.flowKey).toBe('self-serve');
    await track(guest, [{ name: 'flow_started', flowKey: 'self-serve' }]);
    // A user id still needs its signature everywhere.
    expect((await api.gql(ws.publicKey, ONBOARDING, { user: { id: 'signed' } })).errors![0].extensions).toMatchObject({ code: 'FORBIDDEN' });

    expect((await identify(guest, 'signed')).errors![0].extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect((await identify(guest, 'signed', sign(secret, 'someone-else'))).errors![0].extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect(await prisma().guestMerge.count({ where: { guestId: guest } })).toBe(0);
    expect((await identify(guest, 'signed', sign(secret, 'signed'))).data.identify).toEqual({ merged: true, userId: 'signed' });
    const served = await api.gql(ws.publicKey, ONBOARDING, { user: { id: 'signed', hash: sign(secret, 'signed') } });
    expect(served.data!.onboarding.progress.started).toBe(true);
  });

  it('should merge an unknown guest as a no-op that still records the merge', async () => {
    const guest = newGuest();
    expect((await identify(guest, 'never-a-guest')).data.identify).toEqual({ merged: true, userId: 'never-a-guest' });
    expect((await identify(guest, 'another')).errors![0].extensions).toMatchObject({ code: 'CONFLICT' });
  });
}

describe.each(DATABASE_KINDS)('guests who sign up on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);
  guestSuite(kind, api, ws);
});

describe('guests who sign up, concurrently, on postgres', () => {
  const api = useTestApi('postgres');
  const ws = useTestWorkspace(api);

  it('should merge a guest exactly once when identify is called in parallel', async () => {
    const guest = newGuest();
    const events = [
      { id: 'p1', userId: guest, name: 'flow_started', flowKey: 'self-serve' },
      { id: 'p2', userId: guest, name: 'question_answered', flowKey: 'self-serve', questionId: 'role', value: 'developer' },
      { id: 'p3', userId: guest, name: 'step_completed', flowKey: 'self-serve', stepId: 'about-you' },
    ];
    expect((await api.gql(ws.publicKey, TRACK, { events })).errors).toBeUndefined();
    const results = await Promise.all(Array.from({ length: 8 }, () => api.gql(ws.publicKey, IDENTIFY, { g: guest, u: 'parallel-user' })));
    expect(results.map((r) => r.errors)).toEqual(Array(8).fill(undefined));
    expect(results.filter((r) => r.data!.identify.merged)).toHaveLength(1);
    const prisma = api.database.db.prisma;
    expect(await prisma.event.count({ where: { userId: 'parallel-user', environment: { workspaceId: ws.workspaceId } } })).toBe(3);
    expect(await prisma.guestMerge.count({ where: { guestId: guest } })).toBe(1);
  });

  it('should let one of two users win a guest merged into both in parallel, and refuse the other', async () => {
    const guest = newGuest();
    expect((await api.gql(ws.publicKey, TRACK, { events: [{ id: 'q1', userId: guest, name: 'flow_started', flowKey: 'self-serve' }] })).errors).toBeUndefined();
    const [a, b] = await Promise.all(['user-a', 'user-b'].map((u) => api.gql(ws.publicKey, IDENTIFY, { g: guest, u })));
    const codes = [a, b].map((r) => r.errors?.[0]?.extensions?.code ?? 'merged').sort();
    expect(codes).toEqual(['CONFLICT', 'merged']);
    const prisma = api.database.db.prisma;
    const started = await prisma.flowProgress.count({ where: { started: true, profile: { externalId: { in: ['user-a', 'user-b'] }, environment: { workspaceId: ws.workspaceId } } } });
    expect(started).toBe(1);
  });
});
