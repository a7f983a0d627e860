import {
  sortFlowsByPriority, type TCondition, type TFlowContent, type TFlowExperiment, type TNamespace, type TPublishedFlow, type TQuestion, type TRuntimeSnapshot,
} from '@doorstep/schema';
import type { PrismaClient } from '../generated/prisma/client.ts';

export type TEnvironmentSnapshot = TRuntimeSnapshot & {
  environmentId: string;
  workspaceId: string;
  /** Flow ids by key, for writes that arrive with a flow key. */
  flowIds: Map<string, string>;
  /** Published questions by flow key and question id: where an answer is stored. */
  questions: Map<string, Map<string, TQuestion>>;
  /** Running experiments' ids by key, for recording exposures. */
  experimentIds: Map<string, string>;
  /** The workspace's segments, to note which ones an exposed user matched. */
  segments: Array<{ key: string; condition: TCondition }>;
  builtAt: number;
};

type TStoredVariant = { key: string; versionNumber: number; weight: number };

type TEntry = { snapshot: TEnvironmentSnapshot | null; pending: Promise<TEnvironmentSnapshot> | null; generation: number };

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
      if (Date.now() - entry.snapshot.builtAt > this.maxAgeMs && !entry.pending) {
        this.rebuild(environmentId, entry).catch(() => undefined);
      }
      return entry.snapshot;
    }
    return entry.pending ?? this.rebuild(environmentId, entry);
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
    if (!entry) this.entries.set(environmentId, (entry = { snapshot: null, pending: null, generation: 0 }));
    return entry;
  }

  private drop(environmentId: string, entry: TEntry): void {
    // A build already under way read the old state: bumping the generation stops it being cached.
    this.entries.set(environmentId, { snapshot: null, pending: null, generation: entry.generation + 1 });
  }

  private rebuild(environmentId: string, entry: TEntry): Promise<TEnvironmentSnapshot> {
    const generation = entry.generation;
    const pending = buildSnapshot(this.prisma, environmentId).then(
      (snapshot) => {
        const current = this.entries.get(environmentId);
        if (current && current.generation === generation) {
          this.entries.set(environmentId, { snapshot, pending: null, generation });
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

export async function buildSnapshot(prisma: PrismaClient, environmentId: string): Promise<TEnvironmentSnapshot> {
  const environment = await prisma.environment.findUniqueOrThrow({
    where: { id: environmentId },
    select: {
      workspaceId: true,
      workspace: { select: { segments: { select: { key: true, condition: true } } } },
      releases: {
        where: { flow: { archivedAt: null } },
        select: {
          flow: { select: { id: true, key: true, name: true, priority: true, audienceCondition: true, segment: { select: { condition: true } } } },
          version: { select: { number: true, content: true } },
        },
      },
      experiments: {
        where: { status: 'running', flow: { archivedAt: null } },
        select: { id: true, key: true, flowId: true, variants: true, coverage: true, seed: true, hashAttribute: true, fallbackAttribute: true, namespace: true },
      },
    },
  });
  const variantVersions = environment.experiments.length === 0 ? [] : await prisma.flowVersion.findMany({
    where: {
      OR: environment.experiments.map((e) => ({ flowId: e.flowId, number: { in: (e.variants as TStoredVariant[]).map((v) => v.versionNumber) } })),
    },
    select: { flowId: true, number: true, content: true },
  });
  const contentOf = (flowId: string, number: number) => variantVersions.find((v) => v.flowId === flowId && v.number === number)?.content as unknown as TFlowContent;
  const experimentByFlow = new Map<string, TFlowExperiment>(
    environment.experiments.map((e) => [e.flowId, {
      key: e.key,
      variants: (e.variants as TStoredVariant[]).map((v) => ({ key: v.key, version: v.versionNumber, weight: v.weight, content: contentOf(e.flowId, v.versionNumber) })),
      coverage: e.coverage,
      seed: e.seed,
      hashAttribute: e.hashAttribute,
      fallbackAttribute: e.fallbackAttribute,
      namespace: (e.namespace as TNamespace | null) ?? null,
    }]),
  );

  const flows: TPublishedFlow[] = [];
  const flowIds = new Map<string, string>();
  const questions = new Map<string, Map<string, TQuestion>>();
  for (const { flow, version } of environment.releases) {
    const content = version.content as unknown as TFlowContent;
    const experiment = experimentByFlow.get(flow.id) ?? null;
    flows.push({
      key: flow.key,
      name: flow.name,
      priority: flow.priority,
      audience: ((flow.segment?.condition ?? flow.audienceCondition) as TCondition | null) ?? null,
      version: version.number,
      content,
      experiment,
    });
    flowIds.set(flow.key, flow.id);
    // Answers may come from any variant a user was served.
    const served = [content, ...(experiment?.variants.map((v) => v.content) ?? [])];
    questions.set(flow.key, new Map(served.flatMap((c) => c.questions.map((q) => [q.id, q] as const))));
  }
  return {
    environmentId,
    workspaceId: environment.workspaceId,
    flows: sortFlowsByPriority(flows),
    savedGroups: {},
    flowIds,
    questions,
    experimentIds: new Map(environment.experiments.map((e) => [e.key, e.id])),
    segments: environment.workspace.segments.map((s) => ({ key: s.key, condition: s.condition as TCondition })),
    builtAt: Date.now(),
  };
}
