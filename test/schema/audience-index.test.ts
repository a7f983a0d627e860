import { describe, expect, it } from 'vitest';
import {
  candidateFlows, EMPTY_PROGRESS, flowsByPlacement, indexAudiences, requiredEquality, resolveOnboarding, sortFlowsByPriority, ZFlowContent,
  type TCondition, type TPublishedFlow, type TRuntimeSnapshot, type TStoredProgress,
} from '@doorstep/schema';

/** A small deterministic generator, so a failure names a reproducible case. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const AUDIENCES: Array<TCondition | null> = [
  null,
  { plan: 'pro' },
  { plan: 'free', companySize: { $gte: 50 } },
  { 'company.tier': 'gold' },
  { plan: 'pro', role: 'developer' },
  { role: 'developer' },
  { companySize: 5 },
  { $or: [{ plan: 'pro' }, { role: 'admin' }] },
  { tags: 'beta' },
  { plan: { $in: ['pro', 'enterprise'] } },
  { flag: 'true' },
  { plan: 'null' },
];
const ATTRIBUTE_CHOICES: Array<Record<string, unknown>> = [
  {}, { plan: 'pro' }, { plan: 'free', companySize: 80 }, { company: { tier: 'gold' } }, { plan: 'pro', role: 'developer' },
  { role: 'admin' }, { companySize: '5' }, { tags: ['beta'] }, { flag: true }, { plan: null }, { plan: 5 }, { company: 'gold' },
];

const content = ZFlowContent.parse({ welcome: { title: 'Hi' }, steps: [{ id: 'a', kind: 'info', title: 'A' }], activation: { event: 'done' } });

function generatedSnapshot(next: () => number, size: number): TRuntimeSnapshot {
  const flows: TPublishedFlow[] = Array.from({ length: size }, (_, i) => ({
    key: `f${i}`, name: `f${i}`, priority: Math.floor(next() * 5), version: 1, audience: AUDIENCES[Math.floor(next() * AUDIENCES.length)],
    placement: next() < 0.8 ? undefined : 'banner', content: { ...content, afterCompletion: next() < 0.5 ? 'stop' : 'next' },
  }));
  const sorted = sortFlowsByPriority(flows);
  const byPlacement = flowsByPlacement(sorted);
  return { flows: sorted, savedGroups: {}, byPlacement, audienceIndex: new Map([...byPlacement].map(([p, placed]) => [p, indexAudiences(placed)])) };
}

describe('the audience index', () => {
  it('should take a top-level string equality as what an audience requires, and nothing else', () => {
    expect(requiredEquality({ companySize: { $gte: 5 }, plan: 'pro' })).toEqual({ path: 'plan', value: 'pro' });
    expect(requiredEquality({ $or: [{ plan: 'pro' }] })).toBeNull();
    expect(requiredEquality({ companySize: 5 })).toBeNull();
    expect(requiredEquality(null)).toBeNull();
  });

  it('should leave out only flows whose required value the user does not have, in priority order', () => {
    const flows = [{ key: 'a', audience: { plan: 'pro' } }, { key: 'b', audience: null }, { key: 'c', audience: { plan: 'free' } }, { key: 'd', audience: { role: 'dev' } }];
    const index = indexAudiences(flows);
    expect(candidateFlows(index, { plan: 'pro', role: 'dev' }).map((f) => f.key)).toEqual(['a', 'b', 'd']);
    expect(candidateFlows(index, {}).map((f) => f.key)).toEqual(['b']);
  });

  it('should serve what a full scan serves when an attribute cannot be read as text', () => {
    const flows = sortFlowsByPriority([
      { key: 'everyone', name: 'e', priority: 9, version: 1, audience: null, content },
      { key: 'pro', name: 'p', priority: 1, version: 1, audience: { plan: 'pro' }, content },
    ]);
    const byPlacement = flowsByPlacement(flows);
    const indexed: TRuntimeSnapshot = { flows, savedGroups: {}, byPlacement, audienceIndex: new Map([...byPlacement].map(([p, placed]) => [p, indexAudiences(placed)])) };
    const user = { id: 'u', attributes: { plan: { toString: 1 } } };
    expect(resolveOnboarding(indexed, user)?.flow.key).toBe('everyone');
    expect(resolveOnboarding({ flows, savedGroups: {} }, user)?.flow.key).toBe('everyone');
  });

  it('should serve exactly what a full scan serves, over generated flows, users and progress', () => {
    const next = random(7);
    let compared = 0;
    for (let round = 0; round < 40; round++) {
      const snapshot = generatedSnapshot(next, 5 + Math.floor(next() * 60));
      const { audienceIndex: _index, ...fullScan } = snapshot;
      for (let u = 0; u < 30; u++) {
        const attributes = ATTRIBUTE_CHOICES[Math.floor(next() * ATTRIBUTE_CHOICES.length)];
        const progress = new Map<string, TStoredProgress>();
        for (const flow of snapshot.flows) {
          if (next() < 0.1) progress.set(flow.key, { ...EMPTY_PROGRESS, started: true, completed: next() < 0.5, dismissed: next() < 0.3 });
        }
        for (const placement of ['main', 'banner']) {
          const options = { placement, progressFor: (key: string) => progress.get(key), progress };
          const user = { id: `u${u}`, attributes };
          const indexed = resolveOnboarding(snapshot, user, options);
          const scanned = resolveOnboarding(fullScan, user, { ...options, progress: undefined });
          expect(indexed?.flow.key ?? null, `round ${round} user ${JSON.stringify(attributes)} ${placement}`).toBe(scanned?.flow.key ?? null);
          compared++;
        }
      }
    }
    expect(compared).toBe(2400);
  });
});
