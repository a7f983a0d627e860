import { describe, expect, it } from 'vitest';
import { createDoorstep, createOnboarding, memoryStorage, type TOnboardingState, type TUser } from '../../sdk/src/index.ts';
import { useListeningApi, useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

describe.each(DATABASE_KINDS)('headless onboarding on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);
  const http = useListeningApi(api);

  /** A controller on a client of its own, loaded (its first refetch answered). */
  const open = async (user: TUser) => {
    const client = createDoorstep({ apiUrl: `${http.origin}/graphql`, publicKey: ws.publicKey, storage: memoryStorage(), flushIntervalMs: 10 });
    const onboarding = createOnboarding(client, user);
    await onboarding.refresh();
    return { client, onboarding };
  };
  /** The user's stored events, sorted: events tracked in one millisecond have no order to compare. */
  /** Events the controller sent (the server also records what it derived, under derived: ids). */
  const storedEvents = async (userId: string) =>
    (await api.database.db.prisma.event.findMany({
      where: { userId, environment: { workspaceId: ws.workspaceId }, NOT: { clientEventId: { startsWith: 'derived:' } } },
      select: { name: true, flowKey: true, stepId: true },
    }))
      .map((e) => [e.name, e.flowKey, e.stepId].filter(Boolean).join(' ')).sort();
  const sorted = (events: string[]) => [...events].sort();
  const currentStep = (state: TOnboardingState) => state.onboarding!.steps[state.stepIndex].id;

  it('should load the served flow, start it, and track the first step as viewed', async () => {
    const { client, onboarding } = await open({ id: 'h-1' });
    const seen: string[] = [];
    onboarding.subscribe((state) => seen.push(state.status));
    expect(onboarding.state).toMatchObject({ status: 'ready', stepIndex: 0, finished: null, onboarding: { flow: { key: 'self-serve' }, progress: { started: false } } });
    onboarding.start();
    onboarding.start();
    onboarding.viewStep('about-you');
    onboarding.viewStep('about-you');
    await onboarding.refresh();
    expect(onboarding.state.onboarding!.progress.started).toBe(true);
    expect(seen[0]).toBe('ready');
    expect(await storedEvents('h-1')).toEqual(sorted(['flow_started self-serve', 'step_viewed self-serve about-you']));
    await client.close();
  });

  it('should re-route at once when an answer moves the user to another flow, and refuse answers the API would refuse', async () => {
    const { client, onboarding } = await open({ id: 'h-2' });
    onboarding.start();
    onboarding.viewStep('about-you');
    expect(await onboarding.answer('company-size', 0)).toBe(false);
    expect(await onboarding.answer('role', 'astronaut')).toBe(false);
    expect(await onboarding.answer('company-size', 500)).toBe(true);
    expect(onboarding.state).toMatchObject({
      status: 'ready', answers: { 'company-size': 500 }, reroutedFrom: { key: 'self-serve' },
      onboarding: { flow: { key: 'sales-assisted' }, progress: { started: true } },
    });
    expect(currentStep(onboarding.state)).toBe('book-demo');
    await client.flush();
    expect(await storedEvents('h-2')).toEqual(sorted([
      'flow_started self-serve', 'step_viewed self-serve about-you', 'question_answered self-serve',
      'flow_started sales-assisted', 'step_viewed sales-assisted book-demo',
    ]));
    await client.close();
  });

  it('should take a change of flow for a re-routing when the refetch that sees it was queued before the answer', async () => {
    const { client, onboarding } = await open({ id: 'h-2b' });
    onboarding.start();
    // The refresh's flush sends the answer too, so its refetch is the first to meet the new flow.
    await Promise.all([onboarding.refresh(), onboarding.answer('company-size', 500)]);
    expect(onboarding.state).toMatchObject({ finished: null, reroutedFrom: { key: 'self-serve' }, onboarding: { flow: { key: 'sales-assisted' } } });
    await client.close();
  });

  it('should complete steps through product events, move on, and finish when the server completes the flow', async () => {
    const user = { id: 'h-3', attributes: { companySize: 500 } };
    const { client, onboarding } = await open(user);
    expect(onboarding.state.onboarding!.flow.key).toBe('sales-assisted');
    onboarding.start();
    onboarding.viewStep('book-demo');
    expect(await onboarding.skipStep('book-demo')).toBe(false);
    client.track(user, { name: 'demo_booked' });
    await onboarding.refresh();
    expect(onboarding.state.onboarding!.progress.completedStepIds).toEqual(['book-demo']);
    expect(currentStep(onboarding.state)).toBe('connect-warehouse');
    expect(onboarding.state.finished).toBeNull();

    await onboarding.track({ name: 'warehouse_connected' });
    expect(onboarding.state).toMatchObject({ finished: 'completed', onboarding: { flow: { key: 'sales-assisted' }, progress: { completed: true } } });
    expect(await client.getOnboarding(user)).toBeNull();
    // The server derived the completion: the app had no flow_completed to send.
    expect(await storedEvents('h-3')).not.toContain('flow_completed sales-assisted');
    await client.close();
  });

  it('should complete and skip steps for the user, and hold a step whose required questions are unanswered', async () => {
    const { client, onboarding } = await open({ id: 'h-4' });
    onboarding.start();
    expect(onboarding.missingAnswers()).toEqual(['role']);
    expect(await onboarding.completeStep()).toBe(false);
    expect(await onboarding.answer('role', 'product')).toBe(true);
    expect(onboarding.state.onboarding!.flow.key).toBe('self-serve');
    expect(await onboarding.completeStep()).toBe(true);
    expect(currentStep(onboarding.state)).toBe('install-snippet');
    expect(await onboarding.skipStep('invite-team')).toBe(true);
    expect(onboarding.state.onboarding!.progress.completedStepIds).toEqual(['about-you', 'invite-team']);
    expect(currentStep(onboarding.state)).toBe('install-snippet');
    await client.close();
  });

  it('should dismiss the flow: nothing is served to the user afterwards', async () => {
    const { client, onboarding } = await open({ id: 'h-5' });
    onboarding.start();
    await onboarding.dismiss();
    expect(onboarding.state.finished).toBe('dismissed');
    expect(await client.getOnboarding({ id: 'h-5' })).toBeNull();
    expect(await storedEvents('h-5')).toEqual(sorted(['flow_started self-serve', 'flow_dismissed self-serve']));
    await client.close();
  });

  it('should say when nothing is served, and send flow_completed itself only when every step is done and the server cannot derive it', async () => {
    const tag = `h-${ws.workspaceId.slice(0, 8)}`;
    const secret = (query: string, variables?: Record<string, unknown>) => api.gql(ws.secretKey, query, variables);
    await secret('mutation($i: CreateFlowInput!) { createFlow(input: $i) { __typename } }', { i: { key: 'conditional', name: 'Conditional', priority: 100, audience: { condition: { tag } } } });
    const { draft } = (await secret('{ flow(key: "conditional") { draft { revision content } } }')).data.flow;
    // Every step has a show-if condition, so none is required: the server cannot know the flow is done.
    const steps = [{ id: 'one', kind: 'info', title: 'One', showIf: { tag } }, { id: 'two', kind: 'info', title: 'Two', showIf: { tag } }];
    const saved = await secret('mutation($r: Int!, $c: JSON!) { saveDraft(flowKey: "conditional", revision: $r, content: $c) { __typename } }', { r: draft.revision, c: { ...draft.content, steps, questions: [] } });
    expect(saved.data.saveDraft.__typename).toBe('FlowDraft');
    await secret('mutation { publishFlow(flowKey: "conditional", environmentKey: "production") { __typename } }');

    const user = { id: 'h-6', attributes: { tag } };
    const { client, onboarding } = await open(user);
    expect(onboarding.state.onboarding!.flow.key).toBe('conditional');
    onboarding.start();
    await onboarding.completeStep('one');
    expect(onboarding.state.finished).toBeNull();
    await onboarding.completeStep('two');
    expect(onboarding.state.finished).toBe('completed');
    expect(await storedEvents('h-6')).toEqual(sorted([
      'flow_started conditional', 'step_completed conditional one', 'step_viewed conditional two', 'step_completed conditional two', 'flow_completed conditional',
    ]));
    expect(await client.getOnboarding(user)).toBeNull();

    const { client: other, onboarding: none } = await open({ id: 'h-7' });
    await none.dismiss();
    expect(await other.getOnboarding({ id: 'h-7' })).toBeNull();
    const after = createOnboarding(other, { id: 'h-7' });
    await after.refresh();
    expect(after.state).toMatchObject({ status: 'none', onboarding: null });
    await client.close();
    await other.close();
  });
});
