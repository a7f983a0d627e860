import { describe, expect, it } from 'vitest';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

const ONBOARDING = `query($user: OnboardingUserInput!) {
  onboarding(user: $user) { flow { key } version steps { id } progress { started completedStepIds completed } }
}`;
const TRACK = `mutation($events: [TrackEventInput!]!) { track(events: $events) { accepted duplicates } }`;
const SAVE = `mutation($c: JSON!, $r: Int!) { saveDraft(flowKey: "self-serve", revision: $r, content: $c) { __typename ... on FlowDraft { revision } } }`;
const PUBLISH = `mutation($inFlight: InFlightPolicy) { publishFlow(flowKey: "self-serve", environmentKey: "production", inFlight: $inFlight) {
  __typename ... on FlowRelease { version { number } keptVersions } ... on Error { code message }
} }`;
const ROLLBACK = `mutation($v: Int!, $inFlight: InFlightPolicy) { rollbackFlow(flowKey: "self-serve", environmentKey: "production", version: $v, inFlight: $inFlight) {
  __typename ... on FlowRelease { version { number } keptVersions } ... on Error { code message }
} }`;
const HISTORY = '{ flow(key: "self-serve") { history { kind inFlight inFlightUsers toVersion { number } } } }';
const IN_FLIGHT = `query($to: Int) { flow(key: "self-serve") { releases { environment { key } inFlight(toVersion: $to) { version users } } } }`;

describe.each(DATABASE_KINDS)('users mid-flow at a publish on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  let sequence = 0;
  const onboarding = async (id: string) => {
    const res = await api.gql(ws.publicKey, ONBOARDING, { user: { id } });
    expect(res.errors).toBeUndefined();
    return res.data!.onboarding;
  };
  const track = async (userId: string, events: Array<Record<string, unknown>>) => {
    const res = await api.gql(ws.publicKey, TRACK, { events: events.map((e) => ({ id: `evt-${++sequence}`, userId, ...e })) });
    expect(res.errors).toBeUndefined();
  };
  /** Version 2 of self-serve drops the snippet step: a version whose steps differ from what users started. */
  const publishWithoutSnippetStep = async (inFlight?: string) => {
    const { draft } = (await api.gql(ws.secretKey, '{ flow(key: "self-serve") { draft { revision content } } }')).data!.flow;
    const content = { ...draft.content, steps: draft.content.steps.filter((s: { id: string }) => s.id !== 'install-snippet') };
    expect((await api.gql(ws.secretKey, SAVE, { c: content, r: draft.revision })).data!.saveDraft.__typename).toBe('FlowDraft');
    const res = await api.gql(ws.secretKey, PUBLISH, { inFlight });
    expect(res.data!.publishFlow.__typename).toBe('FlowRelease');
    return res.data!.publishFlow;
  };
  const startVersionOne = (userId: string) => track(userId, [
    { name: 'flow_started', flowKey: 'self-serve' },
    { name: 'step_completed', flowKey: 'self-serve', stepId: 'about-you' },
  ]);
  const eventsOf = (userId: string) => api.database.db.prisma.event.findMany({
    where: { userId, environment: { workspaceId: ws.workspaceId, key: 'production' } },
    select: { name: true, stepId: true, version: true }, orderBy: [{ receivedAt: 'asc' }, { name: 'asc' }],
  });
  const analytics = async (version?: number) => {
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 3600_000).toISOString();
    const res = await api.gql(ws.secretKey, `query($v: Int) { flowAnalytics(flowKey: "self-serve", environmentKey: "production", from: "${from}", to: "${to}", version: $v) {
      starts completions exited versions { version starts completions } funnel { stepId completed }
    } }`, { v: version ?? null });
    expect(res.errors).toBeUndefined();
    return res.data!.flowAnalytics;
  };

  it('should let a user who started version 1 finish it after version 2 is published with keep, and give new users version 2', async () => {
    await startVersionOne('keeper');
    const release = await publishWithoutSnippetStep();
    expect(release).toMatchObject({ version: { number: 2 }, keptVersions: [1] });

    const kept = await onboarding('keeper');
    expect(kept.version).toBe(1);
    expect(kept.steps.map((s: { id: string }) => s.id)).toContain('install-snippet');
    expect(kept.progress.completedStepIds).toEqual(['about-you']);
    const newcomer = await onboarding('newcomer');
    expect(newcomer.version).toBe(2);
    expect(newcomer.steps.map((s: { id: string }) => s.id)).not.toContain('install-snippet');
  });

  it('should complete a kept user by the rules of the version they started', async () => {
    await startVersionOne('finisher');
    await publishWithoutSnippetStep('keep');
    // Version 2 would be complete now; version 1 still waits for the snippet.
    await track('finisher', [{ name: 'dashboard_created' }]);
    expect((await onboarding('finisher')).progress).toMatchObject({ completed: false, completedStepIds: ['about-you', 'first-dashboard'] });
    await track('finisher', [{ name: 'first_event_received' }]);
    expect(await onboarding('finisher')).toBeNull();
  });

  it('should record on every event the version the user went through', async () => {
    await startVersionOne('v1-user');
    await publishWithoutSnippetStep('keep');
    await track('v1-user', [{ name: 'first_event_received' }, { name: 'dashboard_created' }]);
    await track('v2-user', [{ name: 'flow_started', flowKey: 'self-serve' }, { name: 'step_completed', flowKey: 'self-serve', stepId: 'about-you' }]);

    const v1Flow = (await eventsOf('v1-user')).filter((e) => e.name !== 'first_event_received' && e.name !== 'dashboard_created');
    expect(v1Flow.length).toBeGreaterThanOrEqual(4);
    expect(new Set(v1Flow.map((e) => e.version))).toEqual(new Set([1]));
    expect(v1Flow.map((e) => e.name)).toContain('flow_completed');
    expect(new Set((await eventsOf('v2-user')).map((e) => e.version))).toEqual(new Set([2]));
  });

  it('should split analytics by the version each user started, and give each version its own funnel', async () => {
    await startVersionOne('a1');
    await publishWithoutSnippetStep('keep');
    await track('a1', [{ name: 'first_event_received' }, { name: 'dashboard_created' }]);
    await track('a2', [{ name: 'flow_started', flowKey: 'self-serve' }]);

    const all = await analytics();
    expect(all).toMatchObject({ starts: 2, completions: 1, exited: 0 });
    expect(all.versions).toEqual([{ version: 2, starts: 1, completions: 0 }, { version: 1, starts: 1, completions: 1 }]);
    const one = await analytics(1);
    expect(one).toMatchObject({ starts: 1, completions: 1 });
    expect(one.funnel.find((s: { stepId: string }) => s.stepId === 'install-snippet').completed).toBe(1);
    const two = await analytics(2);
    expect(two).toMatchObject({ starts: 1, completions: 0 });
    expect(two.funnel.map((s: { stepId: string }) => s.stepId)).not.toContain('install-snippet');
    expect(two.funnel.every((s: { completed: number }) => s.completed === 0)).toBe(true);
  });

  it('should start users mid-flow over in the new version when published with restart', async () => {
    await startVersionOne('restarted');
    await track('done-before', [{ name: 'flow_started', flowKey: 'self-serve' }, { name: 'flow_dismissed', flowKey: 'self-serve' }]);
    const release = await publishWithoutSnippetStep('restart');
    expect(release.keptVersions).toEqual([]);

    expect(await onboarding('restarted')).toMatchObject({ version: 2, progress: { started: false, completedStepIds: [], completed: false } });
    expect(await onboarding('done-before')).toBeNull();
    await track('restarted', [
      { name: 'flow_started', flowKey: 'self-serve' },
      { name: 'step_completed', flowKey: 'self-serve', stepId: 'about-you' },
      { name: 'dashboard_created' },
    ]);
    expect(await onboarding('restarted')).toBeNull();
    const completions = (await eventsOf('restarted')).filter((e) => e.name === 'step_completed' && e.stepId === 'about-you');
    expect(completions.map((e) => e.version)).toEqual([1, 2]);
    const history = (await api.gql(ws.secretKey, HISTORY)).data!.flow.history;
    expect(history[0]).toEqual({ kind: 'publish', inFlight: 'restart', inFlightUsers: 1, toVersion: { number: 2 } });
  });

  it('should end the flow of users mid-flow when published with exit, and count them as exited', async () => {
    await startVersionOne('exited');
    await publishWithoutSnippetStep('exit');

    expect(await onboarding('exited')).toBeNull();
    expect((await onboarding('after-exit')).version).toBe(2);
    expect(await analytics()).toMatchObject({ starts: 1, exited: 1 });
    expect((await api.gql(ws.secretKey, HISTORY)).data!.flow.history[0]).toMatchObject({ inFlight: 'exit', inFlightUsers: 1 });
  });

  it('should say before a publish how many users are mid-flow in which version', async () => {
    await startVersionOne('m1');
    await startVersionOne('m2');
    await track('m3', [{ name: 'flow_started', flowKey: 'self-serve' }, { name: 'flow_completed', flowKey: 'self-serve' }]);
    const releases = (await api.gql(ws.secretKey, IN_FLIGHT, {})).data!.flow.releases;
    expect(releases.find((r: { environment: { key: string } }) => r.environment.key === 'production').inFlight).toEqual([{ version: 1, users: 2 }]);
    const toOne = (await api.gql(ws.secretKey, IN_FLIGHT, { to: 1 })).data!.flow.releases;
    expect(toOne.find((r: { environment: { key: string } }) => r.environment.key === 'production').inFlight).toEqual([]);
  });

  it('should apply the choice to a rollback too, and keep only versions someone is still going through', async () => {
    await publishWithoutSnippetStep('keep');
    await track('on-two', [{ name: 'flow_started', flowKey: 'self-serve' }]);
    const rolledBack = (await api.gql(ws.secretKey, ROLLBACK, { v: 1 })).data!.rollbackFlow;
    expect(rolledBack).toMatchObject({ version: { number: 1 }, keptVersions: [2] });
    expect((await onboarding('on-two')).version).toBe(2);
    expect((await onboarding('fresh')).version).toBe(1);

    // The unchanged draft republishes version 2: its users are not in flight, so restart leaves them be.
    const republished = (await api.gql(ws.secretKey, PUBLISH, { inFlight: 'restart' })).data!.publishFlow;
    expect(republished).toMatchObject({ version: { number: 2 }, keptVersions: [] });
    expect(await onboarding('on-two')).toMatchObject({ version: 2, progress: { started: true } });
  });

  it('should keep users mid-flow in a losing variant on it when the winner ships', async () => {
    await publishWithoutSnippetStep('keep');
    const created = await api.gql(ws.secretKey, `mutation { createExperiment(input: {
      key: "snippet-test", name: "Snippet step", flowKey: "self-serve", environmentKey: "production",
      variants: [{ key: "control", versionNumber: 2, weight: 0.5 }, { key: "with-snippet", versionNumber: 1, weight: 0.5 }]
    }) { __typename ... on Error { message } } }`);
    expect(created.data!.createExperiment.__typename).toBe('Experiment');
    expect((await api.gql(ws.secretKey, 'mutation { launchExperiment(key: "snippet-test") { __typename } }')).data!.launchExperiment.__typename).toBe('Experiment');
    let loser = '';
    for (let i = 0; !loser && i < 50; i++) if ((await onboarding(`variant-${i}`)).version === 1) loser = `variant-${i}`;
    expect(loser).not.toBe('');
    await api.app.services.serves.flush();
    await startVersionOne(loser);

    const shipped = await api.gql(ws.secretKey, 'mutation { shipWinner(key: "snippet-test", variantKey: "control") { __typename } }');
    expect(shipped.data!.shipWinner.__typename).toBe('Experiment');
    expect(await onboarding(loser)).toMatchObject({ version: 1, progress: { completedStepIds: ['about-you'] } });
  });

  it('should judge and record the events of a user by the variant they are shown when an experiment starts while they are mid-flow', async () => {
    await publishWithoutSnippetStep('keep');
    const users = Array.from({ length: 40 }, (_, i) => `mid-${i}`);
    for (const user of users) await track(user, [{ name: 'flow_started', flowKey: 'self-serve' }]);
    const created = await api.gql(ws.secretKey, `mutation { createExperiment(input: {
      key: "late-test", name: "Late", flowKey: "self-serve", environmentKey: "production",
      variants: [{ key: "control", versionNumber: 2, weight: 0.5 }, { key: "with-snippet", versionNumber: 1, weight: 0.5 }]
    }) { __typename } }`);
    expect(created.data!.createExperiment.__typename).toBe('Experiment');
    expect((await api.gql(ws.secretKey, 'mutation { launchExperiment(key: "late-test") { __typename } }')).data!.launchExperiment.__typename).toBe('Experiment');
    let treated = '';
    for (const user of users) if (!treated && (await onboarding(user)).version === 1) treated = user;
    expect(treated).not.toBe('');
    await api.app.services.serves.flush();

    await track(treated, [{ name: 'step_completed', flowKey: 'self-serve', stepId: 'about-you' }, { name: 'dashboard_created' }]);
    // Version 1 still waits for the snippet step: judged by version 2's rules, the flow would be complete.
    expect(await onboarding(treated)).toMatchObject({ version: 1, progress: { completed: false } });
    const stored = await api.database.db.prisma.event.findMany({
      where: { userId: treated, environment: { workspaceId: ws.workspaceId }, name: 'step_completed' }, select: { version: true, variantKey: true },
    });
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.every((e) => e.version === 1 && e.variantKey === 'with-snippet')).toBe(true);
  });
});
