import { describe, expect, it } from 'vitest';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

const ONBOARDING = `query($user: OnboardingUserInput!) {
  onboarding(user: $user) { flow { key } progress { started completedStepIds checkedItemIds completed dismissed } }
}`;
const TRACK = `mutation($events: [TrackEventInput!]!) { track(events: $events) { accepted duplicates } }`;

describe.each(DATABASE_KINDS)('the runtime contract on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  let sequence = 0;
  const onboarding = async (id: string, attributes: Record<string, unknown> = {}) => {
    const res = await api.gql(ws.publicKey, ONBOARDING, { user: { id, attributes } });
    expect(res.errors).toBeUndefined();
    return res.data!.onboarding;
  };
  const track = async (userId: string, events: Array<Record<string, unknown>>) => {
    const res = await api.gql(ws.publicKey, TRACK, { events: events.map((e) => ({ id: `evt-${++sequence}`, userId, ...e })) });
    expect(res.errors).toBeUndefined();
  };
  /** The stored progress, read around the API's caches. */
  const storedProgress = async (userId: string, flowKey: string) =>
    api.database.db.prisma.flowProgress.findFirst({
      where: { profile: { externalId: userId, environment: { workspaceId: ws.workspaceId, key: 'production' } }, flow: { key: flowKey } },
      select: { started: true, completedStepIds: true, checkedItemIds: true, completed: true },
    });

  it('should mark the flow started when flow_started is tracked', async () => {
    await track('s1', [{ name: 'flow_started', flowKey: 'self-serve' }]);
    expect((await onboarding('s1')).progress).toMatchObject({ started: true, completedStepIds: [], completed: false });
  });

  it('should complete a step and tick a checklist item when the app tracks their completion event', async () => {
    await track('s2', [{ name: 'flow_started', flowKey: 'self-serve' }, { name: 'first_event_received' }]);
    expect((await onboarding('s2')).progress).toMatchObject({ completedStepIds: ['install-snippet'], checkedItemIds: ['snippet'], completed: false });
  });

  it('should complete the flow when its last required step is done, and then serve nothing (one onboarding per user)', async () => {
    await track('s3', [
      { name: 'flow_started', flowKey: 'self-serve' },
      { name: 'step_completed', flowKey: 'self-serve', stepId: 'about-you' },
      { name: 'first_event_received' },
    ]);
    expect((await onboarding('s3')).progress.completed).toBe(false);
    // invite-team is skippable: dashboard_created completes the last required step.
    await track('s3', [{ name: 'dashboard_created' }]);
    expect(await storedProgress('s3', 'self-serve')).toMatchObject({ completed: true, completedStepIds: ['about-you', 'install-snippet', 'first-dashboard'] });
    expect(await onboarding('s3', { companySize: 500 })).toBeNull();
  });

  it('should record what it derived as events, once, so analytics count derived completion', async () => {
    await track('s8', [
      { name: 'flow_started', flowKey: 'self-serve' },
      { name: 'step_completed', flowKey: 'self-serve', stepId: 'about-you' },
      { name: 'first_event_received' },
      { name: 'first_event_received' },
      { name: 'dashboard_created' },
      { name: 'dashboard_created' },
    ]);
    const events = await api.database.db.prisma.event.findMany({
      where: { userId: 's8', environment: { workspaceId: ws.workspaceId }, name: { in: ['step_completed', 'flow_completed'] } },
      select: { name: true, stepId: true, properties: true }, orderBy: { receivedAt: 'asc' },
    });
    expect(events.map((e) => [e.name, e.stepId])).toEqual([
      ['step_completed', 'about-you'], ['step_completed', 'install-snippet'], ['step_completed', 'first-dashboard'], ['flow_completed', null],
    ]);
    expect(events[3].properties).toEqual({ derivedFrom: 'dashboard_created' });
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 3600_000).toISOString();
    const analytics = await api.gql(ws.secretKey, `{ flowAnalytics(flowKey: "self-serve", environmentKey: "production", from: "${from}", to: "${to}") { starts completions funnel { stepId completed } } }`);
    expect(analytics.data!.flowAnalytics).toMatchObject({ starts: 1, completions: 1 });
    expect(analytics.data!.flowAnalytics.funnel.find((s: any) => s.stepId === 'first-dashboard').completed).toBe(1);
  });

  it('should not complete a flow the user never started, and complete it once they do', async () => {
    // Every required step of sales-assisted completes by product events: done, but not started.
    await track('s4', [{ name: 'demo_booked' }, { name: 'warehouse_connected' }]);
    expect(await storedProgress('s4', 'sales-assisted')).toMatchObject({ started: false, completedStepIds: ['book-demo', 'connect-warehouse'], completed: false });
    expect((await onboarding('s4', { companySize: 500 })).flow.key).toBe('sales-assisted');
    await track('s4', [{ name: 'flow_started', flowKey: 'sales-assisted' }]);
    expect(await storedProgress('s4', 'sales-assisted')).toMatchObject({ started: true, completed: true });
    // The steps done before the start count in the flow's funnel from then on.
    const derived = await api.database.db.prisma.event.findMany({
      where: { userId: 's4', environment: { workspaceId: ws.workspaceId }, clientEventId: { startsWith: 'derived:' } }, select: { name: true, stepId: true },
    });
    expect(derived.map((e) => `${e.name} ${e.stepId ?? ''}`.trim()).sort()).toEqual(['flow_completed', 'step_completed book-demo', 'step_completed connect-warehouse']);
  });

  it('should refuse events for steps the flow does not have, repeated ids, and ids of the server', async () => {
    const refused = async (events: Array<Record<string, unknown>>) =>
      (await api.gql(ws.publicKey, TRACK, { events: events.map((e) => ({ userId: 's9', ...e })) })).errors![0].extensions!.issues.map((i: any) => i.path);
    expect(await refused([{ id: 's9-1', name: 'step_completed', flowKey: 'self-serve', stepId: 'no-such-step' }])).toEqual(['events.0.stepId']);
    expect(await refused([{ id: 's9-2', name: 'page_viewed' }, { id: 's9-2', name: 'flow_dismissed', flowKey: 'self-serve' }])).toEqual(['events.1.id']);
    expect(await refused([{ id: 'derived:flow_completed:self-serve::victim', name: 'page_viewed' }])).toEqual(['events.0.id']);
    expect(await api.database.db.prisma.event.count({ where: { userId: 's9', environment: { workspaceId: ws.workspaceId } } })).toBe(0);
  });

  it('should serve nothing after a dismissed flow by default', async () => {
    expect((await onboarding('s5', { companySize: 500 })).flow.key).toBe('sales-assisted');
    await track('s5', [{ name: 'flow_dismissed', flowKey: 'sales-assisted' }]);
    expect(await onboarding('s5', { companySize: 500 })).toBeNull();
  });

  it('should serve the next matching flow after one whose afterCompletion is next', async () => {
    const { draft } = (await api.gql(ws.secretKey, '{ flow(key: "sales-assisted") { draft { revision content } } }')).data!.flow;
    const saved = await api.gql(ws.secretKey, 'mutation($c: JSON!, $r: Int!) { saveDraft(flowKey: "sales-assisted", revision: $r, content: $c) { __typename } }', {
      c: { ...draft.content, afterCompletion: 'next' }, r: draft.revision,
    });
    expect(saved.data!.saveDraft.__typename).toBe('FlowDraft');
    await api.gql(ws.secretKey, 'mutation { publishFlow(flowKey: "sales-assisted", environmentKey: "production") { __typename } }');

    await track('s6', [
      { name: 'flow_started', flowKey: 'sales-assisted' },
      { name: 'demo_booked' },
      { name: 'warehouse_connected' },
    ]);
    const next = await onboarding('s6', { companySize: 500 });
    expect(next.flow.key).toBe('self-serve');
    expect(await storedProgress('s6', 'sales-assisted')).toMatchObject({ completed: true });
  });

  it('should merge concurrent events of one user without losing a step', async () => {
    await track('s7', [{ name: 'flow_started', flowKey: 'self-serve' }]);
    await Promise.all([
      track('s7', [{ name: 'step_completed', flowKey: 'self-serve', stepId: 'about-you' }]),
      track('s7', [{ name: 'first_event_received' }]),
      track('s7', [{ name: 'dashboard_created' }]),
    ]);
    const progress = await storedProgress('s7', 'self-serve');
    expect([...progress!.completedStepIds].sort()).toEqual(['about-you', 'first-dashboard', 'install-snippet']);
    expect(progress!.completed).toBe(true);
  });
});
