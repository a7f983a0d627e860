import { createHash } from 'node:crypto';
import { databaseErrorKind } from '../db/database-errors.ts';
import {
  completionTargets, flowsByPlacement, indexAudiences, MAIN_PLACEMENT, requiredStepIds, sortFlowsByPriority, ZCondition, ZFlowContent, ZStoredNamespace, ZStoredVariants,
  type TCompletionTargets, type TCondition, type TFlowContent, type TFlowExperiment, type TPublishedFlow, type TQuestion, type TRuntimeSnapshot,
} from '@doorstep/schema';
import type { z } from 'zod';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { log } from '../log.ts';
import { backoffDelayMs } from './backoff.ts';

export type TEnvironmentSnapshot = TRuntimeSnapshot & {
  environmentId: string;
  environmentKey: string;
  environmentName: string;
  workspaceId: string;
  /** Flow ids by key, for writes that arrive with a flow key. */
  flowIds: Map<string, string>;
  /** Published questions by flow key and question id: where an answer is stored. */
  questions: Map<string, Map<string, TQuestion>>;
  /** Published step ids by flow key, in any version served (released or a variant). */
  stepIds: Map<string, Set<string>>;
  /** How each published flow completes, by flow key: what ingested events tick and finish. */
  completion: Map<string, TFlowCompletion>;
  /** The flows whose steps or checklist items an event name completes. */
  completionEvents: Map<string, string[]>;
  /** Every placement a published flow targets, main first. */
  placementKeys: string[];
  /** Running experiments' ids by key, for recording exposures. */
  experimentIds: Map<string, string>;
  /** The workspace's segments, to note which ones an exposed user matched. */
  segments: Array<{ key: string; condition: TCondition }>;
  /**
   * Changes exactly when what this environment serves changes: a hash of the rows the snapshot is
   * built from, so every API node computes the same value for the same published state.
   */
  etag: string;
  builtAt: number;
};

export type TContentCompletion = { version: number; required: string[]; targets: Map<string, TCompletionTargets> };
/**
 * A flow's completion rules for every version it serves: the released one, each variant's under a
 * running experiment (by variant key), and the earlier versions kept for users who started them.
 */
export type TFlowCompletion = {
  released: TContentCompletion;
  experimentId: string | null;
  variants: Map<string, TContentCompletion>;
  byVersion: Map<number, TContentCompletion>;
};

const contentCompletion = (version: number, content: TFlowContent): TContentCompletion => ({
  version, required: requiredStepIds(content), targets: completionTargets(content),
});

type TEntry = {
  snapshot: TEnvironmentSnapshot | null;
  pending: Promise<TEnvironmentSnapshot> | null;
  generation: number;
  /** Failed background rebuilds in a row, and when the next one may start. */
  failures: number;
  retryAt: number;
  /** The snapshot before an expireAll(): served only while a rebuild fails for want of the database. */
  fallback?: TEnvironmentSnapshot;
};

/**
 * The published state of each environment, compiled in memory. Invalidated by the change bus; a
 * snapshot older than `maxAgeMs` is rebuilt in the background as a fallback for lost messages.
 */
export class SnapshotStore {
  private readonly entries = new Map<string, TEntry>();

  constructor(private readonly prisma: PrismaClient, private readonly maxAgeMs: number) {}

  async get(environmentId: string): Promise<TEnvironmentSnapshot> {
    const entry = this.entry(environmentId);
    if (entry.snapshot) {
      const now = Date.now();
      if (now - entry.snapshot.builtAt > this.maxAgeMs && !entry.pending && now >= entry.retryAt) {
        // The stale snapshot keeps serving meanwhile; a failure is logged and retried with backoff
        // rather than on every request.
        this.rebuild(environmentId, entry).catch((error: unknown) => {
          const current = this.entries.get(environmentId);
          if (!current || current.generation !== entry.generation) return;
          const retryInMs = backoffDelayMs(current.failures++, { baseMs: 1_000, maxMs: 60_000 });
          current.retryAt = Date.now() + retryInMs;
          log.warn('Snapshot rebuild failed; serving the previous one', {
            environmentId, snapshotAgeMs: Date.now() - (current.snapshot?.builtAt ?? now), failures: current.failures, retryInMs,
            error: error instanceof Error ? error.message : String(error),
          });
        });
      }
      return entry.snapshot;
    }
    const fallback = entry.fallback;
    // After a failed rebuild, requests get the fallback at once until the next try is due, rather
    // than each waiting for the database to fail again.
    if (fallback && !entry.pending && Date.now() < entry.retryAt) return fallback;
    const building = entry.pending ?? this.rebuild(environmentId, entry);
    if (!fallback) return building;
    return building.catch((error: unknown) => {
      if (databaseErrorKind(error) !== 'transient') throw error;
      const current = this.entries.get(environmentId);
      if (current && current.generation === entry.generation && Date.now() >= current.retryAt) {
        current.retryAt = Date.now() + backoffDelayMs(current.failures++, { baseMs: 1_000, maxMs: 60_000 });
      }
      return fallback;
    });
  }

  /**
   * Every snapshot is rebuilt before it serves again (changes may have been missed while the LISTEN
   * connection was down), but kept as the fallback should the database fail again meanwhile.
   */
  expireAll(): void {
    for (const [environmentId, entry] of this.entries) {
      this.drop(environmentId, entry);
      const fallback = entry.snapshot ?? entry.fallback;
      if (fallback) this.entries.get(environmentId)!.fallback = fallback;
    }
  }

  invalidateWorkspace(workspaceId: string): void {
    for (const [environmentId, entry] of this.entries) {
      if (entry.snapshot?.workspaceId === workspaceId || entry.pending) this.drop(environmentId, entry);
    }
  }

  invalidateAll(): void {
    for (const [environmentId, entry] of this.entries) this.drop(environmentId, entry);
  }

  private entry(environmentId: string): TEntry {
    let entry = this.entries.get(environmentId);
    if (!entry) this.entries.set(environmentId, (entry = { snapshot: null, pending: null, generation: 0, failures: 0, retryAt: 0 }));
    return entry;
  }

  private drop(environmentId: string, entry: TEntry): void {
    // A build already under way read the old state: bumping the generation stops it being cached.
    this.entries.set(environmentId, { snapshot: null, pending: null, generation: entry.generation + 1, failures: 0, retryAt: 0 });
  }

  private rebuild(environmentId: string, entry: TEntry): Promise<TEnvironmentSnapshot> {
    const generation = entry.generation;
    const pending = buildSnapshot(this.prisma, environmentId).then(
      (snapshot) => {
        const current = this.entries.get(environmentId);
        if (current && current.generation === generation) {
          this.entries.set(environmentId, { snapshot, pending: null, generation, failures: 0, retryAt: 0 });
        }
        return snapshot;
      },
      (error) => {
        const current = this.entries.get(environmentId);
        if (current && current.generation === generation) current.pending = null;
        throw error;
      },
    );
    entry.pending = pending;
    return pending;
  }
}

/**
 * A stored JSON value, parsed where it enters the runtime. A row that does not parse (written by
 * hand, or by an older schema) leaves out what it belongs to, and says so, instead of failing every
 * request of the environment.
 */
function parseStored<S extends z.ZodType>(schema: S, value: unknown, what: Record<string, string>): z.output<S> | null {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  log.error('Stored JSON does not match its schema; left out of the runtime snapshot', { ...what, problem: parsed.error.issues[0]?.message });
  return null;
}

export async function buildSnapshot(prisma: PrismaClient, environmentId: string): Promise<TEnvironmentSnapshot> {
  const environment = await prisma.environment.findUniqueOrThrow({
    where: { id: environmentId },
    select: {
      workspaceId: true,
      key: true,
      name: true,
      workspace: {
        select: {
          segments: { select: { key: true, condition: true } },
          placements: { select: { key: true, maxShows: true, windowHours: true, cooloffHours: true } },
        },
      },
      releases: {
        where: { flow: { archivedAt: null } },
        select: {
          flow: {
            select: { id: true, key: true, name: true, priority: true, placement: true, audienceCondition: true, segment: { select: { key: true, condition: true } } },
          },
          version: { select: { number: true, content: true } },
          keptVersions: true,
        },
      },
      experiments: {
        where: { status: 'running', flow: { archivedAt: null } },
        select: { id: true, key: true, flowId: true, variants: true, coverage: true, seed: true, hashAttribute: true, fallbackAttribute: true, namespace: true },
      },
    },
  });
  const etag = contentEtag(environment);
  const experiments = environment.experiments.flatMap((e) => {
    const variants = parseStored(ZStoredVariants, e.variants, { experiment: e.key, column: 'variants' });
    const namespace = e.namespace === null ? null : parseStored(ZStoredNamespace, e.namespace, { experiment: e.key, column: 'namespace' });
    return variants && (e.namespace === null || namespace) ? [{ ...e, variants, namespace }] : [];
  });
  // Variants' versions and the versions in-flight users keep, in one read.
  const extraVersions = [
    ...experiments.map((e) => ({ flowId: e.flowId, number: { in: e.variants.map((v) => v.versionNumber) } })),
    ...environment.releases.filter((r) => r.keptVersions.length > 0).map((r) => ({ flowId: r.flow.id, number: { in: r.keptVersions } })),
  ];
  const storedVersions = extraVersions.length === 0 ? [] : await prisma.flowVersion.findMany({
    where: { OR: extraVersions },
    select: { flowId: true, number: true, content: true },
  });
  const variantContent = new Map(storedVersions.map((v) => [
    `${v.flowId}:${v.number}`, parseStored(ZFlowContent, v.content, { flowId: v.flowId, version: String(v.number) }),
  ]));
  const experimentIds = new Map(experiments.map((e) => [e.key, e.id]));
  const experimentByFlow = new Map<string, TFlowExperiment>();
  for (const e of experiments) {
    const variants = e.variants.flatMap((v) => {
      const content = variantContent.get(`${e.flowId}:${v.versionNumber}`);
      return content ? [{ key: v.key, version: v.versionNumber, weight: v.weight, content }] : [];
    });
    // An experiment missing a variant's content would shift traffic between the others: leave it out whole.
    if (variants.length !== e.variants.length) continue;
    experimentByFlow.set(e.flowId, {
      key: e.key,
      variants,
      coverage: e.coverage,
      seed: e.seed,
      hashAttribute: e.hashAttribute,
      fallbackAttribute: e.fallbackAttribute,
      namespace: e.namespace,
    });
  }

  const flows: TPublishedFlow[] = [];
  const flowIds = new Map<string, string>();
  const questions = new Map<string, Map<string, TQuestion>>();
  const stepIds = new Map<string, Set<string>>();
  const completion = new Map<string, TFlowCompletion>();
  const completionEvents = new Map<string, string[]>();
  for (const { flow, version, keptVersions: keptNumbers } of environment.releases) {
    const content = parseStored(ZFlowContent, version.content, { flow: flow.key, version: String(version.number) });
    const storedAudience = flow.segment?.condition ?? flow.audienceCondition;
    const audience = storedAudience == null ? null : parseStored(ZCondition, storedAudience, { flow: flow.key, column: flow.segment ? `segment ${flow.segment.key}` : 'audienceCondition' });
    if (!content || (storedAudience != null && !audience)) continue;
    const experiment = experimentByFlow.get(flow.id) ?? null;
    const keptVersions = keptNumbers.flatMap((number) => {
      const keptContent = variantContent.get(`${flow.id}:${number}`);
      return keptContent ? [{ version: number, content: keptContent }] : [];
    });
    flows.push({
      key: flow.key, name: flow.name, priority: flow.priority, placement: flow.placement, audience, audienceName: flow.segment?.key ?? null,
      version: version.number, content, experiment, keptVersions,
    });
    flowIds.set(flow.key, flow.id);
    // Answers and steps may come from any version a user was served.
    const served = [
      { version: version.number, content },
      ...(experiment?.variants.map((v) => ({ version: v.version, content: v.content })) ?? []),
      ...keptVersions,
    ];
    questions.set(flow.key, new Map(served.flatMap(({ content: c }) => c.questions.map((q) => [q.id, q] as const))));
    stepIds.set(flow.key, new Set(served.flatMap(({ content: c }) => c.steps.map((s) => s.id))));
    const byVersion = new Map(served.map((s) => [s.version, contentCompletion(s.version, s.content)]));
    const flowCompletion: TFlowCompletion = {
      released: byVersion.get(version.number)!,
      experimentId: experiment ? (experimentIds.get(experiment.key) ?? null) : null,
      variants: new Map(experiment?.variants.map((v) => [v.key, byVersion.get(v.version)!]) ?? []),
      byVersion,
    };
    completion.set(flow.key, flowCompletion);
    const eventNames = new Set([...byVersion.values()].flatMap((c) => [...c.targets.keys()]));
    for (const name of eventNames) completionEvents.set(name, [...(completionEvents.get(name) ?? []), flow.key]);
  }
  const segments = environment.workspace.segments.flatMap((s) => {
    const condition = parseStored(ZCondition, s.condition, { segment: s.key });
    return condition ? [{ key: s.key, condition }] : [];
  });
  const sorted = sortFlowsByPriority(flows);
  const byPlacement = flowsByPlacement(sorted);
  return {
    environmentId,
    environmentKey: environment.key,
    environmentName: environment.name,
    workspaceId: environment.workspaceId,
    flows: sorted,
    byPlacement,
    audienceIndex: new Map([...byPlacement].map(([placement, placed]) => [placement, indexAudiences(placed)])),
    savedGroups: {},
    placements: new Map(environment.workspace.placements.map(({ key, ...caps }) => [key, caps])),
    placementKeys: [...byPlacement.keys()].sort((a, b) => Number(b === MAIN_PLACEMENT) - Number(a === MAIN_PLACEMENT)),
    flowIds,
    questions,
    stepIds,
    completion,
    completionEvents,
    experimentIds,
    segments,
    etag,
    builtAt: Date.now(),
  };
}

/**
 * The environment's content ETag, from the build inputs rather than the built snapshot. Versions are
 * never edited once published, so a version number stands for its content (and a variant's number,
 * inside the experiment's variants, for the variant's content). Rows are sorted because the query
 * does not order them; stored JSON comes back from jsonb with its keys in a stable order.
 */
function contentEtag(environment: {
  releases: Array<{
    flow: { id: string; key: string; name: string; priority: number; placement: string; audienceCondition: unknown; segment: { key: string; condition: unknown } | null };
    version: { number: number };
    keptVersions: number[];
  }>;
  experiments: Array<{ id: string } & Record<string, unknown>>;
  workspace: { segments: Array<{ key: string; condition: unknown }>; placements: Array<{ key: string } & Record<string, unknown>> };
}): string {
  const byId = <T>(key: (item: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  const inputs = {
    releases: environment.releases
      .map(({ flow, version, keptVersions }) => [
        flow.id, flow.key, flow.name, flow.priority, flow.placement, flow.audienceCondition, flow.segment, version.number, keptVersions,
      ])
      .sort(byId((r) => r[0] as string)),
    experiments: [...environment.experiments].sort(byId((e) => e.id)),
    segments: [...environment.workspace.segments].sort(byId((s) => s.key)),
    placements: [...environment.workspace.placements].sort(byId((p) => p.key)),
  };
  return `"${createHash('sha256').update(JSON.stringify(inputs)).digest('base64url').slice(0, 27)}"`;
}
