import { describe, expect, it } from 'vitest';
import {
  diffContent, EMPTY_PROGRESS, localizeContent, requiredStepIds, resolveOnboarding, sortFlowsByPriority, stepsCompleteFlow, ZFlowContent,
  type TFlowProgress, type TPublishedFlow, type TRuntimeSnapshot,
} from '@doorstep/schema';

const content = (title: string, extra: Record<string, unknown> = {}) => ZFlowContent.parse({
  welcome: { title },
  steps: [
    { id: 'a', kind: 'info', title: 'A' },
    { id: 'b', kind: 'info', title: 'B', showIf: { plan: 'pro' } },
  ],
  activation: { event: 'done' },
  ...extra,
});
const flow = (key: string, priority: number, audience: TPublishedFlow['audience'], extra: Record<string, unknown> = {}): TPublishedFlow => ({
  key, name: key, priority, audience, version: 1, content: content(key, extra),
});
const snapshot = (flows: TPublishedFlow[]): TRuntimeSnapshot => ({ flows: sortFlowsByPriority(flows), savedGroups: {} });

describe('resolveOnboarding', () => {
  const flows = snapshot([flow('everyone', 0, null), flow('big', 20, { size: { $gte: 200 } }), flow('vip', 20, { id: { $in: ['u-vip'] } })]);

  it('should pick the highest-priority flow whose audience matches, ties by key', () => {
    expect(resolveOnboarding(flows, { id: 'u1', attributes: {} })!.flow.key).toBe('everyone');
    expect(resolveOnboarding(flows, { id: 'u1', attributes: { size: 500 } })!.flow.key).toBe('big');
    expect(resolveOnboarding(flows, { id: 'u-vip', attributes: { size: 500 } })!.flow.key).toBe('big');
    expect(resolveOnboarding(flows, { id: 'u-vip', attributes: {} })!.flow.key).toBe('vip');
  });

  it('should return null when no flow matches', () => {
    expect(resolveOnboarding(snapshot([flow('big', 1, { size: { $gte: 200 } })]), { id: 'u', attributes: {} })).toBeNull();
  });

  const finished = (flowKey: string, how: Partial<TFlowProgress>) => (key: string) => (key === flowKey ? { ...EMPTY_PROGRESS, started: true, ...how } : undefined);

  it('should serve no other flow after one whose afterCompletion is stop (the default) is completed or dismissed', () => {
    expect(resolveOnboarding(flows, { id: 'u', attributes: { size: 900 } }, { progressFor: finished('big', { dismissed: true }) })).toBeNull();
    // Not even a flow the user matches only now: finishing onboarding never leads to a second welcome.
    expect(resolveOnboarding(flows, { id: 'u-vip', attributes: {} }, { progressFor: finished('everyone', { completed: true }) })).toBeNull();
  });

  it('should serve the next matching flow after one whose afterCompletion is next', () => {
    const chained = snapshot([flow('everyone', 0, null), flow('big', 20, { size: { $gte: 200 } }, { afterCompletion: 'next' })]);
    expect(resolveOnboarding(chained, { id: 'u', attributes: { size: 900 } }, { progressFor: finished('big', { completed: true }) })!.flow.key).toBe('everyone');
    expect(resolveOnboarding(chained, { id: 'u', attributes: { size: 900 } }, { progressFor: finished('big', { dismissed: true }) })!.flow.key).toBe('everyone');
  });

  it('should leave out steps whose show-if condition does not match', () => {
    expect(resolveOnboarding(flows, { id: 'u', attributes: {} })!.steps.map((s) => s.id)).toEqual(['a']);
    expect(resolveOnboarding(flows, { id: 'u', attributes: { plan: 'pro' } })!.steps.map((s) => s.id)).toEqual(['a', 'b']);
  });
});

describe('localizeContent', () => {
  const translated = content('Hello', { translations: { fr: { welcome: { title: 'Bonjour' }, steps: { a: { title: 'A-fr' } } }, 'pt-BR': { welcome: { title: 'Olá' } } } });

  it('should fall back from region to language to the default locale', () => {
    expect(localizeContent(translated, 'fr-BE').locale).toBe('fr');
    expect(localizeContent(translated, 'pt-BR').welcome.title).toBe('Olá');
    expect(localizeContent(translated, 'pt').locale).toBe('en');
    expect(localizeContent(translated, null).welcome.title).toBe('Hello');
  });

  it('should keep untranslated fields from the default locale', () => {
    const fr = localizeContent(translated, 'fr');
    expect(fr.steps.map((s) => s.title)).toEqual(['A-fr', 'B']);
  });

  it('should localize a version once per locale', () => {
    expect(localizeContent(translated, 'fr')).toBe(localizeContent(translated, 'fr-CA'));
  });
});

describe('diffContent', () => {
  it('should match list items by id and report additions, removals and reordering', () => {
    const before = { steps: [{ id: 'a', t: 1 }, { id: 'b', t: 2 }, { id: 'c', t: 3 }] };
    const after = { steps: [{ id: 'c', t: 3 }, { id: 'a', t: 9 }, { id: 'd', t: 4 }] };
    expect(diffContent(before, after).map((c) => `${c.kind} ${c.path}`)).toEqual([
      'removed steps[id=b]', 'changed steps[id=a].t', 'added steps[id=d]', 'changed steps.order',
    ]);
  });

  it('should report nothing for equal content', () => {
    expect(diffContent({ a: [1, 2], b: { c: 'x' } }, { a: [1, 2], b: { c: 'x' } })).toEqual([]);
  });
});

describe('flow completion rules', () => {
  const steps = (list: Array<Record<string, unknown>>) => ZFlowContent.parse({ welcome: { title: 'W' }, steps: list, activation: { event: 'done' } });

  it('should require the steps that cannot be skipped and show to everyone', () => {
    const content = steps([
      { id: 'a', kind: 'info', title: 'A' },
      { id: 'b', kind: 'info', title: 'B', skippable: true },
      { id: 'c', kind: 'info', title: 'C', showIf: { plan: 'pro' } },
      { id: 'd', kind: 'action', title: 'D', completionEvent: 'd_done' },
    ]);
    expect(requiredStepIds(content)).toEqual(['a', 'd']);
    expect(stepsCompleteFlow(['a', 'd'], ['d', 'b', 'a'])).toBe(true);
    expect(stepsCompleteFlow(['a', 'd'], ['a', 'b'])).toBe(false);
  });

  it('should require every unconditional step when all of them are skippable, and none when all are conditional', () => {
    expect(requiredStepIds(steps([{ id: 'a', kind: 'info', title: 'A', skippable: true }, { id: 'b', kind: 'info', title: 'B', skippable: true }]))).toEqual(['a', 'b']);
    expect(requiredStepIds(steps([{ id: 'a', kind: 'info', title: 'A', showIf: { x: 1 } }]))).toEqual([]);
    expect(stepsCompleteFlow([], ['a'])).toBe(false);
  });
});
