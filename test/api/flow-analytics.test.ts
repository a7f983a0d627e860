import { describe, expect, it } from 'vitest';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

const ANALYTICS = `query($from: DateTime!, $to: DateTime!, $m: [MilestoneInput!]) {
  flowAnalytics(flowKey: "self-serve", environmentKey: "production", from: $from, to: $to, milestones: $m) {
    starts completions completionRate activated activationRate timeToActivationP50Seconds timeToActivationP90Seconds
    funnel { stepId viewed completed dropOff } milestones { name reached rate }
    segments { segmentKey starts completions activated activationRate }
  }
}`;

describe.each(DATABASE_KINDS)('flow analytics on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  it('should report starts, completion, activation, time to activation, the step funnel and milestones', async () => {
    const t0 = Date.now() - 3600_000;
    const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();
    let n = 0;
    const event = (userId: string, name: string, seconds: number, extra: Record<string, unknown> = {}) =>
      ({ id: `fa-${n++}`, userId, name, timestamp: at(seconds), flowKey: 'self-serve', ...extra });
    const events = [
      ...['a', 'b', 'c', 'd'].map((u) => event(u, 'flow_started', 0)),
      ...['a', 'b', 'c'].map((u) => event(u, 'step_viewed', 5, { stepId: 'about-you' })),
      ...['a', 'b'].map((u) => event(u, 'step_completed', 10, { stepId: 'about-you' })),
      event('a', 'step_viewed', 12, { stepId: 'install-snippet' }),
      event('a', 'flow_completed', 30),
      event('a', 'dashboard_created', 100), event('b', 'dashboard_created', 300), event('c', 'dashboard_created', 500),
      event('a', 'report_viewed', 200), event('a', 'report_viewed', 400), event('b', 'report_viewed', 600),
    ];
    const tracked = await api.gql(ws.publicKey, 'mutation($e: [TrackEventInput!]!) { track(events: $e) { accepted } }', { e: events });
    expect(tracked.data!.track.accepted).toBe(events.length);

    const res = await api.gql(ws.secretKey, ANALYTICS, {
      from: new Date(t0 - 60_000).toISOString(), to: new Date().toISOString(),
      m: [
        { name: 'Setup', event: 'step_completed' },
        { name: 'Aha', event: 'dashboard_created', withinHours: 1 },
        { name: 'Habit', event: 'report_viewed', count: 2 },
      ],
    });
    const a = res.data!.flowAnalytics;
    expect(a).toMatchObject({
      starts: 4, completions: 1, completionRate: 0.25, activated: 3, activationRate: 0.75, timeToActivationP50Seconds: 300, timeToActivationP90Seconds: 460,
    });
    expect(a.funnel.slice(0, 2)).toEqual([
      { stepId: 'about-you', viewed: 3, completed: 2, dropOff: 1 },
      { stepId: 'install-snippet', viewed: 1, completed: 0, dropOff: 1 },
    ]);
    expect(a.funnel.map((s: any) => s.stepId)).toEqual(['about-you', 'install-snippet', 'first-dashboard', 'invite-team']);
    // dashboard_created completes the first-dashboard step, and the server records that as the
    // step_completed event an app would have sent: c reaches Setup through it, then Aha.
    expect(a.funnel[2]).toEqual({ stepId: 'first-dashboard', viewed: 0, completed: 3, dropOff: 0 });
    expect(a.milestones).toEqual([
      { name: 'Setup', reached: 3, rate: 0.75 },
      { name: 'Aha', reached: 3, rate: 0.75 },
      { name: 'Habit', reached: 1, rate: 0.25 },
    ]);
  });

  it('should break results down by the segments users matched when first served the flow', async () => {
    await api.gql(ws.secretKey, 'mutation($c: JSON!) { createSegment(input: { key: "startups", name: "Startups", condition: $c }) { __typename } }', { c: { companySize: { $lt: 50 } } });
    const serve = (id: string, companySize: number) => api.gql(ws.publicKey, '{ onboarding(user: { id: "' + id + '", attributes: { companySize: ' + companySize + ' } }) { flow { key } } }');
    for (const [id, size] of [['s1', 10], ['s2', 20], ['s3', 150]] as const) expect((await serve(id, size)).data!.onboarding.flow.key).toBe('self-serve');
    await api.app.services.serves.flush();
    const now = Date.now();
    await api.gql(ws.publicKey, 'mutation($e: [TrackEventInput!]!) { track(events: $e) { accepted } }', { e: [
      ...['s1', 's2', 's3'].map((u) => ({ id: `seg-start-${u}`, userId: u, name: 'flow_started', flowKey: 'self-serve', timestamp: new Date(now - 1000).toISOString() })),
      { id: 'seg-act-s1', userId: 's1', name: 'dashboard_created' },
    ] });
    const res = await api.gql(ws.secretKey, ANALYTICS, { from: new Date(now - 60_000).toISOString(), to: new Date(now + 60_000).toISOString() });
    expect(res.data!.flowAnalytics.segments).toEqual([{ segmentKey: 'startups', starts: 2, completions: 0, activated: 1, activationRate: 0.5 }]);
  });

  it('should count only users who started in the range', async () => {
    const res = await api.gql(ws.secretKey, ANALYTICS, { from: new Date(Date.now() - 86400_000).toISOString(), to: new Date().toISOString() });
    expect(res.data!.flowAnalytics).toMatchObject({ starts: 0, activationRate: 0, timeToActivationP50Seconds: null });
    const bad = await api.gql(ws.secretKey, ANALYTICS, { from: new Date().toISOString(), to: new Date(Date.now() - 1000).toISOString() });
    expect(bad.errors![0].extensions!.code).toBe('VALIDATION');
  });
});
