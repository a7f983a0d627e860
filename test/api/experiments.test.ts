import { describe, expect, it } from 'vitest';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';
import { CREATE_EXPERIMENT, launchedExperiment, publishSecondVersion } from '../support/experiments.ts';
import { createSecretKey } from '../support/keys.ts';

const SERVE = `query($id: ID!) { onboarding(user: { id: $id }) { version variant welcome { title } } }`;

describe.each(DATABASE_KINDS)('experiments on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  it('should refuse weights that do not add up, duplicate keys and versions that do not exist', async () => {
    await publishSecondVersion(api, ws);
    const res = await api.gql(ws.secretKey, CREATE_EXPERIMENT, {
      input: { key: 'bad', name: 'Bad', flowKey: 'self-serve', environmentKey: 'production',
        variants: [{ key: 'a', versionNumber: 1, weight: 0.5 }, { key: 'a', versionNumber: 9, weight: 0.6 }] },
    });
    expect(res.data!.createExperiment.issues.map((i: any) => i.path).sort()).toEqual(['variants', 'variants.1.key']);
    const missing = await api.gql(ws.secretKey, CREATE_EXPERIMENT, {
      input: { key: 'bad', name: 'Bad', flowKey: 'self-serve', environmentKey: 'production',
        variants: [{ key: 'a', versionNumber: 1, weight: 0.5 }, { key: 'b', versionNumber: 9, weight: 0.5 }] },
    });
    expect(missing.data!.createExperiment.issues).toEqual([{ path: 'variants.1.versionNumber', message: expect.stringContaining('no version 9') }]);
  });

  it('should let exactly one of several concurrent launches on one flow and environment run', async () => {
    await publishSecondVersion(api, ws);
    const keys = ['race-a', 'race-b', 'race-c', 'race-d'];
    for (const key of keys) {
      await api.gql(ws.secretKey, CREATE_EXPERIMENT, { input: { key, name: key, flowKey: 'self-serve', environmentKey: 'production',
        variants: [{ key: 'control', versionNumber: 1, weight: 0.5 }, { key: 'short', versionNumber: 2, weight: 0.5 }] } });
    }
    const launches = await Promise.all(keys.map((k) =>
      api.gql(ws.secretKey, 'mutation($k: String!) { launchExperiment(key: $k) { __typename ... on Error { code } } }', { k })));
    const outcomes = launches.map((r) => r.data!.launchExperiment.__typename).sort();
    expect(outcomes).toEqual(['ConflictError', 'ConflictError', 'ConflictError', 'Experiment']);
    const running = await api.database.db.prisma.experiment.count({ where: { key: { in: keys }, status: 'running' } });
    expect(running).toBe(1);
  });

  it('should let only publishers launch', async () => {
    await publishSecondVersion(api, ws);
    await api.gql(ws.secretKey, CREATE_EXPERIMENT, { input: { key: 'gate', name: 'Gate', flowKey: 'self-serve', environmentKey: 'production',
      variants: [{ key: 'control', versionNumber: 1, weight: 0.5 }, { key: 'short', versionNumber: 2, weight: 0.5 }] } });
    const editor = await createSecretKey(api, ws.secretKey, 'editor');
    expect((await api.gql(editor, 'mutation { launchExperiment(key: "gate") { __typename } }')).data!.launchExperiment.__typename).toBe('ForbiddenError');
  });

  it('should serve each user one variant, return its key, and record one exposure', async () => {
    const id = await launchedExperiment(api, ws, 'welcome-ab');
    const first = await Promise.all(Array.from({ length: 40 }, (_, i) => api.gql(ws.publicKey, SERVE, { id: `u${i}` })));
    const variants = first.map((r) => r.data!.onboarding.variant);
    expect(new Set(variants)).toEqual(new Set(['control', 'short']));
    first.forEach((r) => expect(r.data!.onboarding.version).toBe(r.data!.onboarding.variant === 'control' ? 1 : 2));
    const again = await Promise.all(Array.from({ length: 40 }, (_, i) => api.gql(ws.publicKey, SERVE, { id: `u${i}` })));
    expect(again.map((r) => r.data!.onboarding.variant)).toEqual(variants);
    await api.app.services.serves.flush();
    expect(await api.database.db.prisma.exposure.count({ where: { experimentId: id } })).toBe(40);
  });

  it('should keep exposed users on their variant when the weights change', async () => {
    await launchedExperiment(api, ws, 'sticky');
    const before = await Promise.all(Array.from({ length: 60 }, (_, i) => api.gql(ws.publicKey, SERVE, { id: `s${i}` })));
    await api.app.services.serves.flush();
    const changed = await api.gql(ws.secretKey, 'mutation { updateExperimentWeights(key: "sticky", variants: [{ key: "control", weight: 0 }, { key: "short", weight: 1 }]) { __typename } }');
    expect(changed.data!.updateExperimentWeights.__typename).toBe('Experiment');
    // From here on, stickiness must come from the stored exposures, not this process's memory.
    api.app.services.profiles.clear();
    const after = await Promise.all(Array.from({ length: 60 }, (_, i) => api.gql(ws.publicKey, SERVE, { id: `s${i}` })));
    expect(after.map((r) => r.data!.onboarding.variant)).toEqual(before.map((r) => r.data!.onboarding.variant));
    const newcomers = await Promise.all(Array.from({ length: 20 }, (_, i) => api.gql(ws.publicKey, SERVE, { id: `new${i}` })));
    expect(newcomers.every((r) => r.data!.onboarding.variant === 'short')).toBe(true);
  });

  it('should allow one running experiment per flow and environment', async () => {
    await launchedExperiment(api, ws, 'first');
    await api.gql(ws.secretKey, CREATE_EXPERIMENT, { input: { key: 'second', name: 'Second', flowKey: 'self-serve', environmentKey: 'production',
      variants: [{ key: 'control', versionNumber: 1, weight: 0.5 }, { key: 'short', versionNumber: 2, weight: 0.5 }] } });
    const res = await api.gql(ws.secretKey, 'mutation { launchExperiment(key: "second") { __typename ... on Error { message } } }');
    expect(res.data!.launchExperiment).toMatchObject({ __typename: 'ConflictError', message: expect.stringContaining('first') });
  });

  it('should ship the winner: publish its version and stop serving variants', async () => {
    await launchedExperiment(api, ws, 'ship');
    await api.gql(ws.secretKey, 'mutation { publishFlow(flowKey: "self-serve", environmentKey: "production") { __typename } }');
    const shipped = await api.gql(ws.secretKey, 'mutation { shipWinner(key: "ship", variantKey: "control") { ... on Experiment { status winnerVariantKey } } }');
    expect(shipped.data!.shipWinner).toEqual({ status: 'stopped', winnerVariantKey: 'control' });
    const served = (await api.gql(ws.publicKey, SERVE, { id: 'after-ship' })).data!.onboarding;
    expect(served).toEqual({ version: 1, variant: null, welcome: { title: 'Welcome to Lumen' } });
  });

  it('should leave users outside the coverage on the released version without a variant', async () => {
    await launchedExperiment(api, ws, 'partial', [0.5, 0.5], 0.2);
    const served = await Promise.all(Array.from({ length: 100 }, (_, i) => api.gql(ws.publicKey, SERVE, { id: `c${i}` })));
    const outside = served.filter((r) => r.data!.onboarding.variant === null);
    expect(outside.length).toBeGreaterThan(60);
    expect(outside.every((r) => r.data!.onboarding.version === 2)).toBe(true);
  });
});
