import { parse, type SelectionSetNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { LocalRuntime, sortFlowsByPriority, type TRuntimeSnapshot } from '@doorstep/schema';
import { createOnboarding, ONBOARDING_DOCUMENT, type TOnboardingState } from '../../sdk/src/index.ts';
import { demoFlows } from '../../seeds/demo.ts';
import { eventsWaitedFor, previewSource, toOnboarding } from '../../studio/src/lib/preview-source.ts';

const snapshot = (): TRuntimeSnapshot => ({ flows: sortFlowsByPriority(demoFlows().map((flow) => ({ ...flow, version: 0 }))), savedGroups: {} });
const user = { id: 'author', attributes: {} };

/** The field names a selection set asks for, nested: the shape of what the API answers. */
function shapeOf(selection: SelectionSetNode): Record<string, unknown> {
  return Object.fromEntries(selection.selections.map((field) => {
    if (field.kind !== 'Field') throw new Error('the client selects plain fields only');
    return [field.name.value, field.selectionSet ? shapeOf(field.selectionSet) : true];
  }));
}

/** The same, read from a value: arrays by their first element, null objects left out. */
function shapeOfValue(value: unknown, expected: unknown): unknown {
  if (expected === true) return true;
  const item = Array.isArray(value) ? value[0] : value;
  if (item === null || item === undefined) return expected;
  return Object.fromEntries(Object.entries(item as Record<string, unknown>).map(([key, inner]) => [key, shapeOfValue(inner, (expected as Record<string, unknown>)[key])]));
}

/** A controller on the preview source, loaded, with its latest state at hand. */
async function walk(runtime: LocalRuntime) {
  const onboarding = createOnboarding(previewSource(runtime), user);
  await onboarding.refresh();
  const states: TOnboardingState[] = [];
  onboarding.subscribe((state) => states.push(state));
  return { onboarding, last: () => states[states.length - 1] };
}

describe('the studio preview source', () => {
  it('should answer getOnboarding with exactly the fields the client asks the API for', async () => {
    const operation = parse(ONBOARDING_DOCUMENT).definitions[0];
    if (operation.kind !== 'OperationDefinition') throw new Error('expected a query');
    const selected = shapeOf(operation.selectionSet).onboarding;
    const served = await previewSource(new LocalRuntime(snapshot())).getOnboarding(user, { locale: 'fr' });
    expect(shapeOfValue(served, selected)).toEqual(selected);
    expect(served).toMatchObject({ flow: { key: 'self-serve', name: 'Self-serve onboarding' }, variant: null, locale: 'fr', welcome: { title: 'Bienvenue sur Lumen' } });
  });

  it('should name an experiment variant by its key, as the API does', () => {
    const resolved = new LocalRuntime(snapshot()).resolve(user, null)!;
    expect(toOnboarding({ ...resolved, variant: { experimentKey: 'short-welcome', key: 'variant-b', sticky: false } }).variant).toBe('variant-b');
  });

  it('should apply tracked events to the runtime at once, with distinct ids, and flush without waiting', async () => {
    const runtime = new LocalRuntime(snapshot());
    const source = previewSource(runtime);
    const ids = [source.track(user, { name: 'flow_started', flowKey: 'self-serve' }), source.track(user, { name: 'first_event_received' })];
    expect(new Set(ids).size).toBe(2);
    await expect(source.flush()).resolves.toBeUndefined();
    expect(runtime.resolve(user, null)!.progress).toMatchObject({ started: true, completedStepIds: ['install-snippet'], checkedItemIds: ['snippet'] });
  });

  it('should let the headless controller re-route on an answer and finish the flow, as against the API', async () => {
    const { onboarding, last } = await walk(new LocalRuntime(snapshot()));
    onboarding.start();
    expect(eventsWaitedFor(last().onboarding!)).toEqual(['first_event_received', 'dashboard_created']);
    await onboarding.answer('role', 'product');
    expect(last().onboarding!.flow.key).toBe('self-serve');
    await onboarding.answer('company-size', 500);
    expect(last()).toMatchObject({ onboarding: { flow: { key: 'sales-assisted' } }, reroutedFrom: { key: 'self-serve' } });
    expect(eventsWaitedFor(last().onboarding!)).toEqual(['demo_booked', 'warehouse_connected']);
    await onboarding.track({ name: 'demo_booked' });
    await onboarding.track({ name: 'warehouse_connected' });
    expect(last()).toMatchObject({ finished: 'completed', onboarding: { flow: { key: 'sales-assisted' }, progress: { completed: true } } });
  });

  it('should render personal texts with the attributes of the sample user, and an answer over them', async () => {
    const flows = snapshot().flows.map((flow) => flow.key !== 'self-serve' ? flow : {
      ...flow,
      content: { ...flow.content, welcome: { ...flow.content.welcome, title: 'Welcome, {{firstName|there}}', body: 'Hi **{{firstName}}**, team of {{companySize|some}}' } },
    });
    const runtime = new LocalRuntime({ flows, savedGroups: {} });
    const source = previewSource(runtime);
    const sample = { id: 'author', attributes: { firstName: '<b>Anna</b>', companySize: 12 } };
    expect((await source.getOnboarding(sample))!.welcome).toMatchObject({
      title: 'Welcome, <b>Anna</b>', bodyHtml: '<p>Hi <strong>&lt;b&gt;Anna&lt;/b&gt;</strong>, team of 12</p>\n',
    });
    expect((await source.getOnboarding({ id: 'author', attributes: {} }))!.welcome.title).toBe('Welcome, there');
    source.track(sample, { name: 'question_answered', flowKey: 'self-serve', questionId: 'company-size', value: 30 });
    expect((await source.getOnboarding(sample))!.welcome.bodyHtml).toContain('team of 30');
  });
});
