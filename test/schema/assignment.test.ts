import { describe, expect, it } from 'vitest';
import { assignVariant, resolveOnboarding, runExperiment, ZFlowContent, type TFlowExperiment } from '@doorstep/schema';

const content = (title: string) => ZFlowContent.parse({ welcome: { title }, steps: [{ id: 'a', kind: 'info', title: 'A' }], activation: { event: 'done' } });
const experiment = (weights: number[], coverage = 1): TFlowExperiment => ({
  key: 'welcome-test',
  variants: [
    { key: 'control', version: 1, content: content('Control'), weight: weights[0] },
    { key: 'short', version: 2, content: content('Short'), weight: weights[1] },
  ],
  coverage, seed: 'welcome-test', hashAttribute: 'id', fallbackAttribute: null, namespace: null,
});
const users = Array.from({ length: 10_000 }, (_, i) => ({ id: `user-${i}` }));

describe('experiment assignment', () => {
  it('should assign the same variant to the same user every time', () => {
    const first = users.slice(0, 100).map((u) => assignVariant(experiment([0.5, 0.5]), u)?.variant.key);
    const again = users.slice(0, 100).map((u) => assignVariant(experiment([0.5, 0.5]), u)?.variant.key);
    expect(again).toEqual(first);
  });

  it('should split users close to the weights', () => {
    const counts = { control: 0, short: 0 } as Record<string, number>;
    for (const u of users) counts[assignVariant(experiment([0.2, 0.8]), u)!.variant.key]++;
    expect(counts.short / users.length).toBeCloseTo(0.8, 1);
  });

  it('should keep a user on their first variant when the weights change', () => {
    const before = users.map((u) => assignVariant(experiment([0.5, 0.5]), u)!.variant.key);
    const reshuffledWithoutStickiness = users.filter((u, i) => assignVariant(experiment([0.9, 0.1]), u)!.variant.key !== before[i]).length;
    expect(reshuffledWithoutStickiness).toBeGreaterThan(1000);
    const sticky = users.map((u, i) => assignVariant(experiment([0.9, 0.1]), u, before[i]));
    expect(sticky.every((s, i) => s!.variant.key === before[i] && s!.sticky)).toBe(true);
  });

  it('should leave users outside the coverage out of the experiment', () => {
    const inside = users.filter((u) => assignVariant(experiment([0.5, 0.5], 0.3), u) !== null).length;
    expect(inside / users.length).toBeCloseTo(0.3, 1);
  });

  it('should serve the assigned variant through resolveOnboarding, and the release outside coverage', () => {
    const flow = { key: 'f', name: 'F', priority: 0, audience: null, version: 1, content: content('Release'), experiment: experiment([0, 1], 0.5) };
    const served = users.slice(0, 200).map((u) => resolveOnboarding({ flows: [flow], savedGroups: {} }, { id: u.id, attributes: {} })!);
    const inTest = served.filter((s) => s.variant);
    expect(inTest.every((s) => s.variant!.key === 'short' && s.welcome.title === 'Short' && s.version === 2)).toBe(true);
    expect(served.filter((s) => !s.variant).every((s) => s.welcome.title === 'Release' && s.version === 1)).toBe(true);
    expect(inTest.length).toBeGreaterThan(60);
  });
});

describe('runExperiment targeting beyond the shared cases', () => {
  const base = { key: 'my-test', variations: [0, 1] };
  it('should include only users in one of the experiment groups', () => {
    expect(runExperiment({ ...base, groups: ['beta'] }, { attributes: { id: '1' }, groups: { beta: true } }).inExperiment).toBe(true);
    expect(runExperiment({ ...base, groups: ['beta'] }, { attributes: { id: '1' }, groups: { beta: false, staff: true } }).inExperiment).toBe(false);
    expect(runExperiment({ ...base, groups: ['beta'] }, { attributes: { id: '1' } }).inExperiment).toBe(false);
  });

  it('should include only pages whose URL or path matches the url pattern', () => {
    const url = 'https://app.example.com/onboarding/start?x=1';
    expect(runExperiment({ ...base, url: '^/onboarding' }, { attributes: { id: '1' }, url }).inExperiment).toBe(true);
    expect(runExperiment({ ...base, url: 'example\\.com/onboarding' }, { attributes: { id: '1' }, url }).inExperiment).toBe(true);
    expect(runExperiment({ ...base, url: '^/settings' }, { attributes: { id: '1' }, url }).inExperiment).toBe(false);
    expect(runExperiment({ ...base, url: '^/onboarding' }, { attributes: { id: '1' } }).inExperiment).toBe(false);
    expect(runExperiment({ ...base, url: '(unclosed' }, { attributes: { id: '1' }, url }).inExperiment).toBe(false);
  });
});
