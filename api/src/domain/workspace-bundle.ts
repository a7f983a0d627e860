import {
  BUNDLE_FORMAT, BUNDLE_VERSION, ZWorkspaceBundle, canonicalJson, sameJson, toValidationIssues,
  type TBundleExperiment, type TBundleFlow, type TValidationIssue, type TWorkspaceBundle,
} from '@doorstep/schema';
import { Prisma, type PrismaClient } from '../generated/prisma/client.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import type { TAuditFact, TWriteOutcome } from './management-write.ts';
import { publishVersion } from './publishing.ts';

type TTx = Prisma.TransactionClient;
type TActor = { workspaceId: string; actor: string };

/** An import is one transaction of up to a few thousand statements: longer than one edit's. */
export const IMPORT_TIMEOUT_MS = 60_000;

export const IMPORT_ENTITIES = ['segment', 'placement', 'flow', 'draft', 'version', 'release', 'experiment'] as const;
export const IMPORT_ACTIONS = ['create', 'update', 'unchanged'] as const;
export type TImportEntity = (typeof IMPORT_ENTITIES)[number];
export type TImportAction = (typeof IMPORT_ACTIONS)[number];

/** One item of the bundle and what the import does (or would do) with it. */
export type TImportChange = {
  entity: TImportEntity;
  action: TImportAction;
  /** The segment's, placement's, flow's or experiment's key; a flow's for drafts, versions and releases. */
  key: string;
  version: number | null;
  environmentKey: string | null;
  /** For updates: the fields that differ. */
  fields: string[];
};
export type TImportCount = { entity: TImportEntity } & Record<TImportAction, number>;
export type TImportPlan = { dryRun: boolean; changes: TImportChange[]; counts: TImportCount[] };

/** Two imports (or an import and an edit) that created the same key or version at once. */
export const importConflict = () => new ConflictError('The workspace changed while the bundle was being imported; try again');

export function parseBundle(input: unknown): TWorkspaceBundle {
  const parsed = ZWorkspaceBundle.safeParse(input);
  if (!parsed.success) throw new ValidationError(toValidationIssues(parsed.error));
  return parsed.data;
}

export function findWorkspaceBySlug(prisma: PrismaClient, slug: string): Promise<{ id: string; name: string } | null> {
  return prisma.workspace.findUnique({ where: { slug }, select: { id: true, name: true } });
}

const byKey = <T extends { key: string }>(a: T, b: T) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
const iso = (date: Date | null) => date?.toISOString() ?? null;

/**
 * The workspace's content as a bundle. Read in one repeatable-read transaction, so that an
 * experiment never names a version published after its flow was read. Sorted in code rather than by
 * the database, whose collation may differ between installations.
 */
export async function exportWorkspace(prisma: PrismaClient, workspaceId: string, now = new Date()): Promise<TWorkspaceBundle> {
  return prisma.$transaction(async (tx) => {
    const workspace = await tx.workspace.findUniqueOrThrow({ where: { id: workspaceId }, select: { name: true } });
    const environments = await tx.environment.findMany({ where: { workspaceId }, select: { key: true, name: true } });
    const segments = await tx.segment.findMany({ where: { workspaceId }, select: { key: true, name: true, condition: true } });
    const placements = await tx.placement.findMany({
      where: { workspaceId }, select: { key: true, name: true, maxShows: true, windowHours: true, cooloffHours: true },
    });
    const flows = await tx.flow.findMany({
      where: { workspaceId },
      include: {
        segment: { select: { key: true } },
        draft: { select: { content: true } },
        versions: { select: { number: true, content: true }, orderBy: { number: 'asc' } },
        releases: { select: { environment: { select: { key: true } }, version: { select: { number: true } } } },
      },
    });
    const experiments = await tx.experiment.findMany({
      where: { workspaceId }, include: { flow: { select: { key: true } }, environment: { select: { key: true } } },
    });
    return {
      format: BUNDLE_FORMAT,
      version: BUNDLE_VERSION,
      exportedAt: now.toISOString(),
      workspace: { name: workspace.name },
      environments: environments.sort(byKey).map((e) => ({ key: e.key, name: e.name })),
      segments: segments.sort(byKey).map((s) => ({ key: s.key, name: s.name, condition: canonicalJson(s.condition) })),
      placements: placements.sort(byKey).map((p) => ({ key: p.key, name: p.name, maxShows: p.maxShows, windowHours: p.windowHours, cooloffHours: p.cooloffHours })),
      flows: flows.sort(byKey).map((flow): TBundleFlow => ({
        key: flow.key,
        name: flow.name,
        priority: flow.priority,
        placement: flow.placement,
        audience: { segmentKey: flow.segment?.key ?? null, condition: flow.audienceCondition ? canonicalJson(flow.audienceCondition) : null },
        archivedAt: iso(flow.archivedAt),
        draft: flow.draft ? canonicalJson(flow.draft.content) : null,
        versions: flow.versions.map((v) => ({ number: v.number, content: canonicalJson(v.content) })),
        releases: flow.releases
          .map((r) => ({ environmentKey: r.environment.key, version: r.version.number }))
          .sort((a, b) => (a.environmentKey < b.environmentKey ? -1 : 1)),
      })),
      experiments: experiments.sort(byKey).map(bundleExperiment),
    };
  }, { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead, timeout: IMPORT_TIMEOUT_MS });
}

type TExperimentRow = Prisma.ExperimentGetPayload<{ include: { flow: { select: { key: true } }; environment: { select: { key: true } } } }>;

function bundleExperiment(e: TExperimentRow): TBundleExperiment {
  return {
    key: e.key,
    name: e.name,
    flowKey: e.flow.key,
    environmentKey: e.environment.key,
    status: e.status,
    variants: e.variants.map((v) => ({ key: v.key, versionNumber: v.versionNumber, weight: v.weight })),
    coverage: e.coverage,
    seed: e.seed,
    hashAttribute: e.hashAttribute,
    fallbackAttribute: e.fallbackAttribute,
    namespace: e.namespace ? { id: e.namespace[0], start: e.namespace[1], end: e.namespace[2] } : null,
    activationWindowHours: e.activationWindowHours,
    startedAt: iso(e.startedAt),
    stoppedAt: iso(e.stoppedAt),
    winnerVariantKey: e.winnerVariantKey,
  };
}

async function loadTarget(tx: TTx, workspaceId: string) {
  // Segments the import points flows at cannot be deleted before it commits (see audienceColumns).
  await tx.$queryRaw`SELECT id FROM "Segment" WHERE "workspaceId" = ${workspaceId}::uuid FOR KEY SHARE`;
  const [environments, segments, placements, flows, experiments] = [
    await tx.environment.findMany({ where: { workspaceId }, select: { id: true, key: true } }),
    await tx.segment.findMany({ where: { workspaceId } }),
    await tx.placement.findMany({ where: { workspaceId } }),
    await tx.flow.findMany({
      where: { workspaceId },
      include: {
        segment: { select: { key: true } },
        draft: { select: { content: true } },
        versions: { select: { number: true, content: true } },
        releases: { select: { environment: { select: { key: true } }, version: { select: { number: true } } } },
      },
    }),
    await tx.experiment.findMany({ where: { workspaceId }, include: { flow: { select: { key: true } }, environment: { select: { key: true } } } }),
  ];
  const keyed = <T extends { key: string }>(rows: T[]) => new Map(rows.map((row) => [row.key, row]));
  return {
    environments: new Map(environments.map((e) => [e.key, e.id])),
    segments: keyed(segments),
    placements: keyed(placements),
    flows: keyed(flows),
    experiments: keyed(experiments),
  };
}

/** The names of the fields whose two values differ as JSON. */
function differing(pairs: Record<string, [unknown, unknown]>): string[] {
  return Object.entries(pairs).filter(([, [a, b]]) => !sameJson(a ?? null, b ?? null)).map(([field]) => field);
}

/**
 * Merges a bundle into a workspace, or (dry run) only says what that would do. Keys the target lacks
 * are created; keys it has are updated where their content differs; nothing the bundle lacks is
 * deleted. Versions never change: a version the target has must be the bundle's, and versions it lacks
 * are added under the bundle's numbers. Environments are not created, and experiments that have
 * started in the target are not changed: both are refused as validation issues, before anything is written.
 */
export async function importBundle(tx: TTx, who: TActor, bundle: TWorkspaceBundle, options: { dryRun: boolean }): Promise<TWriteOutcome<TImportPlan>> {
  const workspaceId = who.workspaceId;
  const target = await loadTarget(tx, workspaceId);
  const issues: TValidationIssue[] = [];
  const changes: TImportChange[] = [];
  const steps: Array<() => Promise<unknown>> = [];
  const plan = (entity: TImportEntity, action: TImportAction, key: string, more: Partial<Pick<TImportChange, 'version' | 'environmentKey' | 'fields'>> = {}) =>
    changes.push({ entity, action, key, version: more.version ?? null, environmentKey: more.environmentKey ?? null, fields: more.fields ?? [] });

  bundle.environments.forEach((environment, index) => {
    if (!target.environments.has(environment.key)) {
      issues.push({ path: `environments.${index}.key`, message: `The workspace has no environment "${environment.key}": create it first, or leave it and what names it out of the bundle` });
    }
  });
  const environmentId = (key: string) => target.environments.get(key)!;

  const segmentIds = new Map([...target.segments].map(([key, s]) => [key, s.id]));
  for (const segment of bundle.segments) {
    const existing = target.segments.get(segment.key);
    if (!existing) {
      plan('segment', 'create', segment.key);
      steps.push(async () => {
        const created = await tx.segment.create({ data: { workspaceId, key: segment.key, name: segment.name, condition: segment.condition } });
        segmentIds.set(segment.key, created.id);
      });
      continue;
    }
    const fields = differing({ name: [existing.name, segment.name], condition: [existing.condition, segment.condition] });
    plan('segment', fields.length ? 'update' : 'unchanged', segment.key, { fields });
    if (fields.length) steps.push(() => tx.segment.update({ where: { id: existing.id }, data: { name: segment.name, condition: segment.condition } }));
  }

  for (const placement of bundle.placements) {
    const { key, ...caps } = placement;
    const existing = target.placements.get(key);
    const fields = existing
      ? differing({
          name: [existing.name, caps.name], maxShows: [existing.maxShows, caps.maxShows],
          windowHours: [existing.windowHours, caps.windowHours], cooloffHours: [existing.cooloffHours, caps.cooloffHours],
        })
      : [];
    plan('placement', !existing ? 'create' : fields.length ? 'update' : 'unchanged', key, { fields });
    if (!existing) steps.push(() => tx.placement.create({ data: { workspaceId, key, ...caps } }));
    else if (fields.length) steps.push(() => tx.placement.update({ where: { id: existing.id }, data: caps }));
  }

  const flowIds = new Map([...target.flows].map(([key, f]) => [key, f.id]));
  bundle.flows.forEach((flow, index) => planFlow(flow, index));

  function planFlow(flow: TBundleFlow, index: number) {
    const existing = target.flows.get(flow.key);
    // Read when the step runs: segments the bundle creates have no id before.
    const columns = () => ({
      name: flow.name, priority: flow.priority, placement: flow.placement,
      segmentId: flow.audience.segmentKey ? segmentIds.get(flow.audience.segmentKey)! : null,
      audienceCondition: flow.audience.condition ? (flow.audience.condition as Prisma.InputJsonObject) : Prisma.DbNull,
      archivedAt: flow.archivedAt ? new Date(flow.archivedAt) : null,
    });
    const release = (flowId: () => string, environmentKey: string, version: number) =>
      steps.push(() => publishVersion(tx, who, flowId(), environmentId(environmentKey), version, 'keep'));

    if (!existing) {
      plan('flow', 'create', flow.key);
      if (flow.draft) plan('draft', 'create', flow.key);
      flow.versions.forEach((v) => plan('version', 'create', flow.key, { version: v.number }));
      steps.push(async () => {
        const created = await tx.flow.create({
          data: { workspaceId, key: flow.key, ...columns(), ...(flow.draft ? { draft: { create: { content: flow.draft, updatedBy: who.actor } } } : {}) },
        });
        flowIds.set(flow.key, created.id);
        await tx.flowVersion.createMany({ data: flow.versions.map((v) => ({ flowId: created.id, number: v.number, content: v.content, createdBy: who.actor })) });
      });
      for (const r of flow.releases) {
        plan('release', 'create', flow.key, { version: r.version, environmentKey: r.environmentKey });
        release(() => flowIds.get(flow.key)!, r.environmentKey, r.version);
      }
      return;
    }

    const fields = differing({
      name: [existing.name, flow.name], priority: [existing.priority, flow.priority], placement: [existing.placement, flow.placement],
      audience: [
        { segmentKey: existing.segment?.key ?? null, condition: existing.audienceCondition },
        { segmentKey: flow.audience.segmentKey, condition: flow.audience.condition },
      ],
      archivedAt: [iso(existing.archivedAt), flow.archivedAt],
    });
    plan('flow', fields.length ? 'update' : 'unchanged', flow.key, { fields });
    if (fields.length) steps.push(() => tx.flow.update({ where: { id: existing.id }, data: columns() }));

    if (flow.draft) {
      const draft = flow.draft;
      if (!existing.draft) {
        plan('draft', 'create', flow.key);
        steps.push(() => tx.flowDraft.create({ data: { flowId: existing.id, content: draft, updatedBy: who.actor } }));
      } else if (!sameJson(existing.draft.content, draft)) {
        plan('draft', 'update', flow.key, { fields: ['content'] });
        // A new revision, so that an editor holding the old one gets a conflict instead of overwriting the import.
        steps.push(() => tx.flowDraft.update({ where: { flowId: existing.id }, data: { content: draft, revision: { increment: 1 }, updatedBy: who.actor } }));
      } else {
        plan('draft', 'unchanged', flow.key);
      }
    }

    const targetVersions = new Map(existing.versions.map((v) => [v.number, v.content]));
    const added = flow.versions.filter((version, v) => {
      const content = targetVersions.get(version.number);
      if (content === undefined) {
        plan('version', 'create', flow.key, { version: version.number });
        return true;
      }
      if (sameJson(content, version.content)) {
        plan('version', 'unchanged', flow.key, { version: version.number });
      } else {
        issues.push({
          path: `flows.${index}.versions.${v}.content`,
          message: `Version ${version.number} of flow "${flow.key}" differs from the workspace's version ${version.number}, and versions never change: import the flow under another key`,
        });
      }
      return false;
    });
    if (added.length) {
      steps.push(async () => {
        // As publishing does: the flow's version numbers are taken under its lock.
        await tx.$queryRaw`SELECT id FROM "Flow" WHERE id = ${existing.id}::uuid FOR UPDATE`;
        await tx.flowVersion.createMany({ data: added.map((v) => ({ flowId: existing.id, number: v.number, content: v.content, createdBy: who.actor })) });
      });
    }

    const served = new Map(existing.releases.map((r) => [r.environment.key, r.version.number]));
    for (const r of flow.releases) {
      const current = served.get(r.environmentKey);
      const action = current === undefined ? 'create' : current === r.version ? 'unchanged' : 'update';
      plan('release', action, flow.key, { version: r.version, environmentKey: r.environmentKey, fields: action === 'update' ? ['version'] : [] });
      if (action !== 'unchanged') release(() => existing.id, r.environmentKey, r.version);
    }
  }

  const runningIn = new Map([...target.experiments.values()].filter((e) => e.status === 'running').map((e) => [`${e.flow.key}\n${e.environment.key}`, e.key]));
  bundle.experiments.forEach((experiment, index) => {
    const existing = target.experiments.get(experiment.key);
    const columns = () => ({
      name: experiment.name, status: experiment.status, variants: experiment.variants, coverage: experiment.coverage, seed: experiment.seed,
      hashAttribute: experiment.hashAttribute, fallbackAttribute: experiment.fallbackAttribute,
      namespace: experiment.namespace ? [experiment.namespace.id, experiment.namespace.start, experiment.namespace.end] as PrismaJson.ExperimentNamespace : Prisma.DbNull,
      activationWindowHours: experiment.activationWindowHours,
      startedAt: experiment.startedAt ? new Date(experiment.startedAt) : null,
      stoppedAt: experiment.stoppedAt ? new Date(experiment.stoppedAt) : null,
      winnerVariantKey: experiment.winnerVariantKey,
    });
    if (!existing) {
      const other = runningIn.get(`${experiment.flowKey}\n${experiment.environmentKey}`);
      if (experiment.status === 'running' && other) {
        issues.push({
          path: `experiments.${index}.status`,
          message: `Experiment "${other}" runs on flow "${experiment.flowKey}" in "${experiment.environmentKey}": stop it before importing another running one`,
        });
      }
      plan('experiment', 'create', experiment.key);
      steps.push(() => tx.experiment.create({
        data: {
          workspaceId, key: experiment.key, flowId: flowIds.get(experiment.flowKey)!, environmentId: environmentId(experiment.environmentKey),
          createdBy: who.actor, ...columns(),
        },
      }));
      return;
    }
    if (existing.flow.key !== experiment.flowKey || existing.environment.key !== experiment.environmentKey) {
      issues.push({
        path: `experiments.${index}.flowKey`,
        message: `Experiment "${experiment.key}" is on flow "${existing.flow.key}" in "${existing.environment.key}" in this workspace; an import cannot move it`,
      });
      return;
    }
    const current = bundleExperiment(existing);
    const fields = differing(Object.fromEntries(Object.entries(current).map(([field, value]) => [field, [value, experiment[field as keyof TBundleExperiment]]])));
    if (fields.length && (existing.status !== 'draft' || experiment.status !== 'draft')) {
      issues.push({
        path: `experiments.${index}`,
        message: `Experiment "${experiment.key}" differs (${fields.join(', ')}) but is ${existing.status} here or ${experiment.status} in the bundle: an import changes draft experiments only`,
      });
      return;
    }
    plan('experiment', fields.length ? 'update' : 'unchanged', experiment.key, { fields });
    if (fields.length) steps.push(() => tx.experiment.update({ where: { id: existing.id }, data: columns() }));
  });

  if (issues.length > 0) throw new ValidationError(issues);
  const counts = IMPORT_ENTITIES.map((entity): TImportCount => {
    const of = changes.filter((c) => c.entity === entity);
    return { entity, create: of.filter((c) => c.action === 'create').length, update: of.filter((c) => c.action === 'update').length, unchanged: of.filter((c) => c.action === 'unchanged').length };
  });
  const value = { dryRun: options.dryRun, changes, counts };
  if (options.dryRun || steps.length === 0) return { value, audit: null };
  for (const step of steps) await step();
  return { value, audit: importAudit(workspaceId, bundle, counts) };
}

function importAudit(workspaceId: string, bundle: TWorkspaceBundle, counts: TImportCount[]): TAuditFact {
  const tally = (action: 'create' | 'update') => Object.fromEntries(counts.filter((c) => c[action] > 0).map((c) => [c.entity, c[action]]));
  return {
    action: 'workspace.import', targetType: 'workspace', targetId: workspaceId,
    data: { source: bundle.workspace.name, exportedAt: bundle.exportedAt, created: tally('create'), updated: tally('update') },
  };
}
