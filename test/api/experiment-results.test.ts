import { describe, expect, it } from 'vitest';
import { assignVariant, type TFlowExperiment } from '@doorstep/schema';
import type { PrismaClient } from '../../api/src/generated/prisma/client.ts';
import { seedDemo } from '../../api/src/seed.ts';
import { experimentResults } from '../../api/src/domain/experiment-results.ts';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { createTestDatabase, DATABASE_KINDS } from '../support/databases.ts';
import { launchedExperiment } from '../support/experiments.ts';

const RESULTS = `query($k: String!) { experiment(key: $k) { results {
  variants { key exposed activated activationRate intervalLow intervalHigh uplift chanceToBeatControl pValue timeToActivationP50Seconds timeToActivationP90Seconds }
  timeToActivation { variantKey upToSeconds users } funnel { variantKey stepId viewed completed } segments { segmentKey variantKey exposed activated } srmPValue warnings
} } }`;

/** A small seeded PRNG, so every run and both databases see the same synthetic users. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const START = new Date('2026-11-01T00:00:00Z');
const EXPERIMENT_SHAPE: TFlowExperiment = {
  key: 'sim', seed: 'sim', coverage: 1, hashAttribute: 'id', fallbackAttribute: null, namespace: null,
  variants: [{ key: 'control', version: 1, weight: 0.5, content: null as never }, { key: 'short', version: 2, weight: 0.5, content: null as never }],
};

type TSimulation = { users: number; rates: Record<string, number>; assign?: (userId: string, random: number) => string; seed?: number };

/** Synthetic users: exposed by the real hash (or a deliberately biased rule), activated at a known rate. */
async function simulate(prisma: PrismaClient, experimentId: string, environmentId: string, sim: TSimulation) {
  const random = mulberry32(sim.seed ?? 42);
  const exposures: any[] = [];
  const events: any[] = [];
  for (let i = 0; i < sim.users; i++) {
    const userId = `sim-${i}`;
    const variantKey = sim.assign ? sim.assign(userId, random()) : assignVariant(EXPERIMENT_SHAPE, { id: userId })!.variant.key;
    const exposedAt = new Date(START.getTime() + i * 1000);
    exposures.push({ experimentId, userId, variantKey, exposedAt, segmentKeys: i % 2 === 0 ? ['even'] : [] });
    if (random() < sim.rates[variantKey]) {
      events.push({ environmentId, clientEventId: `act-${i}`, userId, name: 'dashboard_created', timestamp: new Date(exposedAt.getTime() + (60 + Math.floor(random() * 3600)) * 1000) });
    }
  }
  for (let i = 0; i < exposures.length; i += 2000) await prisma.exposure.createMany({ data: exposures.slice(i, i + 2000) });
  for (let i = 0; i < events.length; i += 2000) await prisma.event.createMany({ data: events.slice(i, i + 2000) });
}

describe.each(DATABASE_KINDS)('experiment results on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  const setUp = async (key: string) => {
    const experimentId = await launchedExperiment(api, ws, key);
    const { environmentId } = await api.database.db.prisma.experiment.findUniqueOrThrow({ where: { id: experimentId } });
    return { experimentId, environmentId };
  };
  const results = async (key: string) => (await api.gql(ws.secretKey, RESULTS, { k: key })).data!.experiment.results;

  it('should find the better variant among 20,000 simulated users with known activation rates', async () => {
    const { experimentId, environmentId } = await setUp('sim');
    await simulate(api.database.db.prisma, experimentId, environmentId, { users: 20_000, rates: { control: 0.2, short: 0.25 } });
    const r = await results('sim');
    const [control, short] = r.variants;
    expect(control.exposed + short.exposed).toBe(20_000);
    expect(control.activationRate).toBeCloseTo(0.2, 1);
    expect(short.activationRate).toBeCloseTo(0.25, 1);
    expect(Math.abs(control.activationRate - 0.2)).toBeLessThan(0.015);
    expect(Math.abs(short.activationRate - 0.25)).toBeLessThan(0.015);
    expect(short.chanceToBeatControl).toBeGreaterThan(0.99);
    expect(short.pValue).toBeLessThan(0.001);
    expect(short.uplift).toBeGreaterThan(0.1);
    expect(short.intervalLow).toBeLessThan(short.activationRate);
    expect(short.intervalHigh).toBeGreaterThan(short.activationRate);
    expect(r.srmPValue).toBeGreaterThan(0.001);
    expect(r.warnings).toEqual([]);
    expect(r.segments.filter((s: any) => s.segmentKey === 'even').reduce((n: number, s: any) => n + s.exposed, 0)).toBe(10_000);
  });

  it('should warn about a sample ratio mismatch when assignment is biased', async () => {
    const { experimentId, environmentId } = await setUp('biased');
    await simulate(api.database.db.prisma, experimentId, environmentId, {
      users: 20_000, rates: { control: 0.2, short: 0.2 }, assign: (_id, random) => (random < 0.55 ? 'control' : 'short'),
    });
    const r = await results('biased');
    expect(r.srmPValue).toBeLessThan(0.001);
    expect(r.warnings).toEqual([expect.stringContaining('Sample ratio mismatch')]);
  });

  it('should warn when variants have too few users to judge', async () => {
    const { experimentId, environmentId } = await setUp('tiny');
    await simulate(api.database.db.prisma, experimentId, environmentId, { users: 40, rates: { control: 0.5, short: 0.5 } });
    expect((await results('tiny')).warnings).toEqual([expect.stringContaining('Too few users')]);
  });

  it('should count only activations after exposure and within the window, with percentile times', async () => {
    const { experimentId, environmentId } = await setUp('timing');
    const prisma = api.database.db.prisma;
    await prisma.experiment.update({ where: { id: experimentId }, data: { activationWindowHours: 1 } });
    const at = (seconds: number) => new Date(START.getTime() + seconds * 1000);
    await prisma.exposure.createMany({ data: ['a', 'b', 'c', 'd', 'early', 'late'].map((u) => ({ experimentId, userId: u, variantKey: 'control', exposedAt: START })) });
    const activation = (userId: string, seconds: number) => ({ environmentId, clientEventId: `t-${userId}`, userId, name: 'dashboard_created', timestamp: at(seconds) });
    await prisma.event.createMany({ data: [activation('a', 60), activation('b', 120), activation('c', 180), activation('d', 240), activation('early', -60), activation('late', 7200)] });
    await prisma.event.createMany({ data: [
      { environmentId, clientEventId: 'v-a', userId: 'a', name: 'step_viewed', flowKey: 'self-serve', stepId: 'about-you', timestamp: at(10) },
      { environmentId, clientEventId: 'v-b', userId: 'b', name: 'step_viewed', flowKey: 'self-serve', stepId: 'about-you', timestamp: at(10) },
      { environmentId, clientEventId: 'c-a', userId: 'a', name: 'step_completed', flowKey: 'self-serve', stepId: 'about-you', timestamp: at(20) },
    ] });
    const r = await results('timing');
    expect(r.variants[0]).toMatchObject({ exposed: 6, activated: 4, timeToActivationP50Seconds: 150, timeToActivationP90Seconds: 222 });
    expect(r.funnel).toEqual([{ variantKey: 'control', stepId: 'about-you', viewed: 2, completed: 1 }]);
    const control = r.timeToActivation.filter((b: any) => b.variantKey === 'control');
    expect(control.slice(0, 3)).toEqual([
      { variantKey: 'control', upToSeconds: 60, users: 0 },
      { variantKey: 'control', upToSeconds: 300, users: 4 },
      { variantKey: 'control', upToSeconds: 900, users: 0 },
    ]);
    expect(control.reduce((n: number, b: any) => n + b.users, 0)).toBe(4);
  });
});

describe('experiment results across databases', () => {
  it('should be identical on PGlite and PostgreSQL for the same data', async () => {
    const outputs = [];
    for (const kind of DATABASE_KINDS) {
      const database = await createTestDatabase(kind);
      try {
        const prisma = database.db.prisma;
        const ws = await seedDemo(prisma);
        const flow = await prisma.flow.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, key: 'self-serve' } });
        const env = await prisma.environment.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, key: 'production' } });
        await prisma.flowVersion.create({ data: { flowId: flow.id, number: 2, content: (await prisma.flowVersion.findFirstOrThrow({ where: { flowId: flow.id } })).content, createdBy: 't' } });
        const variants = [{ key: 'control', versionNumber: 1, weight: 0.5 }, { key: 'short', versionNumber: 2, weight: 0.5 }];
        const experiment = await prisma.experiment.create({ data: { workspaceId: ws.workspaceId, flowId: flow.id, environmentId: env.id, key: 'x', name: 'X', status: 'running', variants, seed: 'sim', createdBy: 't' } });
        await simulate(prisma, experiment.id, env.id, { users: 3000, rates: { control: 0.3, short: 0.35 }, seed: 7 });
        outputs.push(await experimentResults(prisma, { id: experiment.id, environmentId: env.id, variants, flowKey: 'self-serve', activationEvent: 'dashboard_created', activationWindowHours: null }));
      } finally {
        await database.drop();
      }
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[0].variants[0].exposed).toBeGreaterThan(1000);
  });
});
