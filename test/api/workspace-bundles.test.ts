import { randomBytes } from 'node:crypto';
import { DEFAULT_ENVIRONMENTS } from '@doorstep/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../api/src/auth/api-keys.ts';
import type { TSeedResult } from '../../api/src/seed.ts';
import { useTestApi, useTestWorkspace, type TTestApi } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';
import { launchedExperiment } from '../support/experiments.ts';
import { createSecretKey } from '../support/keys.ts';

const EXPORT = '{ exportWorkspace }';
const IMPORT = `mutation($bundle: JSON!, $dryRun: Boolean!) { importWorkspace(bundle: $bundle, dryRun: $dryRun) {
  __typename
  ... on ImportPlan { dryRun counts { entity create update unchanged } changes { entity action key version environmentKey fields } }
  ... on ValidationError { issues { path message } }
  ... on Error { code message }
} }`;

type TCounts = Array<{ entity: string; create: number; update: number; unchanged: number }>;

/** A workspace with environments and an admin key but no content, as a new installation's would be. */
async function emptyWorkspace(api: TTestApi, environments: ReadonlyArray<{ key: string; name: string }> = DEFAULT_ENVIRONMENTS) {
  const key = generateApiKey('secret');
  const suffix = randomBytes(4).toString('hex');
  const workspace = await api.database.db.prisma.workspace.create({
    data: {
      slug: `empty-${suffix}`, name: `Empty ${suffix}`,
      environments: { create: environments.map((e) => ({ key: e.key, name: e.name })) },
      apiKeys: { create: { kind: 'secret', role: 'admin', name: 'Admin', prefix: key.prefix, secretHash: key.secretHash, createdBy: 'test' } },
    },
  });
  return { workspaceId: workspace.id, secretKey: key.secret };
}

/** A bundle without what differs between two exports of the same content. */
const content = (bundle: Record<string, unknown>) => ({ ...bundle, exportedAt: undefined, workspace: undefined });
const changed = (counts: TCounts) => counts.filter((c) => c.create + c.update > 0);

describe.each(DATABASE_KINDS)('workspace export and import on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);
  const targets: Array<{ workspaceId: string }> = [];
  afterEach(async () => {
    for (const target of targets.splice(0)) await api.dropWorkspace(target as TSeedResult);
  });
  const target = async (environments?: ReadonlyArray<{ key: string; name: string }>) => {
    const created = await emptyWorkspace(api, environments);
    targets.push(created);
    return created;
  };

  const exportOf = async (key: string) => {
    const res = await api.gql(key, EXPORT);
    expect(res.errors).toBeUndefined();
    return res.data!.exportWorkspace as Record<string, any>;
  };
  const importInto = async (key: string, bundle: unknown, dryRun = false) => (await api.gql(key, IMPORT, { bundle, dryRun })).data!.importWorkspace;

  /** The demo workspace plus a segment, caps, a flow on two versions in two environments, an unpublished draft and a running experiment. */
  async function richSource() {
    const gql = (query: string, variables?: Record<string, unknown>) => api.gql(ws.secretKey, query, variables);
    await gql('mutation($c: JSON!) { createSegment(input: { key: "devs", name: "Developers", condition: $c }) { __typename } }', { c: { role: { $in: ['developer', 'engineer'] } } });
    await gql('mutation { updateFlow(key: "developer-quickstart", input: { audience: { segmentKey: "devs" } }) { __typename } }');
    await gql('mutation { savePlacement(input: { key: "banner", name: "Banner", maxShows: 2, windowHours: 48 }) { __typename } }');
    await launchedExperiment(api, ws, 'short-welcome', [0.3, 0.7]);
    const { draft } = (await gql('{ flow(key: "self-serve") { draft { revision content } } }')).data!.flow;
    const saved = await gql('mutation($c: JSON!, $r: Int!) { saveDraft(flowKey: "self-serve", revision: $r, content: $c) { __typename } }', {
      c: { ...draft.content, welcome: { ...draft.content.welcome, title: 'Not published yet' } }, r: draft.revision,
    });
    expect(saved.data!.saveDraft.__typename).toBe('FlowDraft');
    return exportOf(ws.secretKey);
  }

  it('should export flows with every version, where each is published, the draft, segments and experiments, by key', async () => {
    const bundle = await richSource();
    expect(bundle).toMatchObject({ format: 'doorstep.workspace', version: 1, environments: [{ key: 'production' }, { key: 'staging' }] });
    const selfServe = bundle.flows.find((f: any) => f.key === 'self-serve');
    expect(selfServe.versions.map((v: any) => v.number)).toEqual([1, 2]);
    expect(selfServe.releases).toEqual([{ environmentKey: 'production', version: 2 }, { environmentKey: 'staging', version: 1 }]);
    expect(selfServe.draft.welcome.title).toBe('Not published yet');
    expect(bundle.flows.find((f: any) => f.key === 'developer-quickstart').audience).toEqual({ segmentKey: 'devs', condition: null });
    expect(bundle.experiments).toEqual([expect.objectContaining({
      key: 'short-welcome', flowKey: 'self-serve', environmentKey: 'production', status: 'running',
      variants: [{ key: 'control', versionNumber: 1, weight: 0.3 }, { key: 'short', versionNumber: 2, weight: 0.7 }],
    })]);
    expect(JSON.stringify(bundle)).not.toMatch(/dsk_|dpk_|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/);
  });

  it('should give the same JSON when exporting unchanged content twice', async () => {
    const first = await richSource();
    const second = await exportOf(ws.secretKey);
    expect(JSON.stringify(content(second))).toBe(JSON.stringify(content(first)));
  });

  it('should reproduce the content exactly when the export is imported into an empty workspace', async () => {
    const bundle = await richSource();
    const empty = await target();
    const plan = await importInto(empty.secretKey, bundle);
    expect(plan).toMatchObject({ __typename: 'ImportPlan', dryRun: false });
    expect(plan.counts.every((c: TCounts[number]) => c.update === 0 && c.unchanged === 0)).toBe(true);
    expect(plan.counts.find((c: TCounts[number]) => c.entity === 'version').create).toBe(bundle.flows.reduce((n: number, f: any) => n + f.versions.length, 0));
    const copy = await exportOf(empty.secretKey);
    expect(JSON.stringify(content(copy))).toBe(JSON.stringify(content(bundle)));
  });

  it('should change nothing on a dry run, and say what it would do', async () => {
    const bundle = await richSource();
    const empty = await target();
    const plan = await importInto(empty.secretKey, bundle, true);
    expect(plan.dryRun).toBe(true);
    expect(plan.changes).toContainEqual({ entity: 'release', action: 'create', key: 'self-serve', version: 2, environmentKey: 'production', fields: [] });
    expect(plan.changes).toContainEqual({ entity: 'experiment', action: 'create', key: 'short-welcome', version: null, environmentKey: null, fields: [] });
    expect(await exportOf(empty.secretKey)).toMatchObject({ segments: [], placements: [], flows: [], experiments: [] });
    const audit = await api.database.db.prisma.auditEntry.count({ where: { workspaceId: empty.workspaceId } });
    expect(audit).toBe(0);
  });

  it('should change nothing when the same bundle is imported again', async () => {
    const bundle = await richSource();
    const empty = await target();
    await importInto(empty.secretKey, bundle);
    const again = await importInto(empty.secretKey, bundle);
    expect(changed(again.counts)).toEqual([]);
    expect(again.changes.every((c: { action: string }) => c.action === 'unchanged')).toBe(true);
    expect(await api.database.db.prisma.auditEntry.count({ where: { workspaceId: empty.workspaceId } })).toBe(1);
  });

  it('should update what differs and keep what the bundle lacks in a workspace with content', async () => {
    const bundle = await richSource();
    const demo = await api.createWorkspace();
    targets.push(demo);
    const plan = await importInto(demo.secretKey, { ...bundle, experiments: [] });
    expect(changed(plan.counts)).toEqual([
      { entity: 'segment', create: 1, update: 0, unchanged: 0 },
      { entity: 'placement', create: 1, update: 0, unchanged: 0 },
      { entity: 'flow', create: 0, update: 1, unchanged: bundle.flows.length - 1 },
      { entity: 'draft', create: 0, update: 1, unchanged: bundle.flows.length - 1 },
      { entity: 'version', create: 1, update: 0, unchanged: bundle.flows.length },
      { entity: 'release', create: 0, update: 1, unchanged: 2 * bundle.flows.length - 1 },
    ]);
    expect(plan.changes).toContainEqual({ entity: 'flow', action: 'update', key: 'developer-quickstart', version: null, environmentKey: null, fields: ['audience'] });
    // The demo's public key is served the imported version at once.
    const served = await api.gql(demo.publicKey, '{ onboarding(user: { id: "u1" }) { flow { key } welcome { title } } }');
    expect(served.data!.onboarding).toEqual({ flow: { key: 'self-serve' }, welcome: { title: 'Short welcome' } });
  });

  it('should refuse a version that differs from the one the workspace has, changing nothing', async () => {
    const bundle = await richSource();
    const demo = await api.createWorkspace();
    targets.push(demo);
    const index = bundle.flows.findIndex((f: any) => f.key === 'self-serve');
    const altered = structuredClone(bundle);
    altered.flows[index].versions[0].content.welcome.title = 'Rewritten history';
    const res = await importInto(demo.secretKey, altered);
    expect(res.__typename).toBe('ValidationError');
    expect(res.issues).toEqual([{ path: `bundle.flows.${index}.versions.0.content`, message: expect.stringContaining('versions never change') }]);
    expect((await exportOf(demo.secretKey)).segments).toEqual([]);
  });

  it('should refuse an invalid bundle with the path of each problem', async () => {
    const bundle = await richSource();
    const empty = await target();
    const broken = structuredClone(bundle);
    broken.flows[0].releases[0].version = 99;
    broken.flows[1].versions[0].content.steps = [];
    const res = await importInto(empty.secretKey, broken);
    expect(res.__typename).toBe('ValidationError');
    expect(res.issues.map((i: { path: string }) => i.path)).toEqual(['bundle.flows.0.releases.0.version', 'bundle.flows.1.versions.0.content.steps']);
    expect((await importInto(empty.secretKey, { format: 'something-else' })).issues[0]).toEqual({ path: 'bundle.format', message: expect.stringContaining('Not a Doorstep workspace bundle') });
  });

  it('should refuse a running experiment on a flow the bundle does not publish in its environment', async () => {
    const bundle = await richSource();
    const empty = await target();
    const index = bundle.experiments.findIndex((e: { status: string }) => e.status === 'running');
    const experiment = bundle.experiments[index];
    const unpublished = structuredClone(bundle);
    const flow = unpublished.flows.find((f: { key: string }) => f.key === experiment.flowKey);
    flow.releases = flow.releases.filter((r: { environmentKey: string }) => r.environmentKey !== experiment.environmentKey);
    const res = await importInto(empty.secretKey, unpublished);
    expect(res.issues).toEqual([{ path: `bundle.experiments.${index}.status`, message: expect.stringContaining('is not published in') }]);
  });

  it('should refuse a bundle naming an environment the workspace lacks', async () => {
    const bundle = await richSource();
    const productionOnly = await target([{ key: 'production', name: 'Production' }]);
    const res = await importInto(productionOnly.secretKey, bundle);
    expect(res.issues).toEqual([{ path: 'bundle.environments.1.key', message: expect.stringContaining('no environment "staging"') }]);
  });

  it('should refuse more items than a bundle may hold', async () => {
    const empty = await target();
    const segments = Array.from({ length: 501 }, (_, i) => ({ key: `s${i}`, name: 'S', condition: {} }));
    const res = await importInto(empty.secretKey, {
      format: 'doorstep.workspace', version: 1, exportedAt: new Date().toISOString(), workspace: { name: 'x' },
      environments: [], segments, placements: [], flows: [], experiments: [],
    });
    expect(res.issues).toEqual([{ path: 'bundle.segments', message: expect.stringContaining('500') }]);
  });

  it('should refuse to export or import for members below admin', async () => {
    const publisher = await createSecretKey(api, ws.secretKey, 'publisher');
    expect((await api.gql(publisher, EXPORT)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const bundle = await exportOf(ws.secretKey);
    expect(await importInto(publisher, bundle, true)).toMatchObject({ __typename: 'ForbiddenError' });
  });
});
