import type { TAttributes, TStoredProgress } from '@doorstep/schema';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { BatchWriter } from './batch-writer.ts';

export type TProfileState = {
  /** Attributes set by answers; they override what the app sends. */
  answers: TAttributes;
  progress: Map<string, TStoredProgress>;
  /** Variant keys by experiment key, for running experiments the user was exposed to. */
  exposures: Map<string, string>;
  /** When this user was first served each flow (ms since epoch), by flow key: frequency caps count these. */
  servedFlows: Map<string, number>;
};

// Shared by every unknown user, so it must never be mutated; its maps are only ever read.
const EMPTY_STATE: Readonly<TProfileState> = Object.freeze({ answers: {}, progress: new Map(), exposures: new Map(), servedFlows: new Map<string, number>() });

export type TProfileStoreOptions = { maxEntries?: number; ttlMs?: number; flushIntervalMs?: number };

/**
 * Profiles in a bounded LRU cache. The short TTL bounds how stale another API process's view can be
 * after a `track` lands elsewhere; the process that handled the `track` invalidates at once.
 * First sightings are written in batches, off the request path.
 */
export class ProfileStore {
  private readonly cache = new Map<string, { state: TProfileState; expiresAt: number }>();
  /** Serves and exposures known to this process, kept across an invalidation until the reload merges them. */
  private readonly carried = new Map<string, Pick<TProfileState, 'servedFlows' | 'exposures'>>();
  private readonly firstSeen: BatchWriter<{ environmentId: string; externalId: string }>;
  private readonly maxEntries: number;
  private readonly ttlMs: number;

  constructor(private readonly prisma: PrismaClient, options: TProfileStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 50_000;
    this.ttlMs = options.ttlMs ?? 3_000;
    this.firstSeen = new BatchWriter((data) => prisma.userProfile.createMany({ data, skipDuplicates: true }), {
      label: 'first-seen profiles', intervalMs: options.flushIntervalMs,
    });
  }

  async get(environmentId: string, externalId: string): Promise<TProfileState> {
    const cacheKey = `${environmentId}\u0000${externalId}`;
    const hit = this.cache.get(cacheKey);
    if (hit && hit.expiresAt > Date.now()) {
      this.cache.delete(cacheKey);
      this.cache.set(cacheKey, hit);
      return hit.state;
    }
    const state = this.withCarried(cacheKey, await this.load(environmentId, externalId));
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(cacheKey, { state, expiresAt: Date.now() + this.ttlMs });
    return state;
  }

  /**
   * Reloads the profile on its next read. What this process served meanwhile (first serves,
   * exposures) may still wait in the serve recorder's batch, so it is carried over to the reload:
   * serves and exposures are only ever added.
   */
  invalidate(environmentId: string, externalId: string): void {
    const cacheKey = `${environmentId}\u0000${externalId}`;
    const hit = this.cache.get(cacheKey);
    this.cache.delete(cacheKey);
    if (hit && (hit.state.servedFlows.size > 0 || hit.state.exposures.size > 0)) {
      if (this.carried.size >= this.maxEntries) this.carried.delete(this.carried.keys().next().value as string);
      this.carried.set(cacheKey, { servedFlows: hit.state.servedFlows, exposures: hit.state.exposures });
    }
  }

  /** Drops every cached profile, when changes may have been missed. */
  clear(): void {
    for (const [environmentIdAndUser] of this.cache) {
      const [environmentId, externalId] = environmentIdAndUser.split('\u0000');
      this.invalidate(environmentId, externalId);
    }
  }

  private withCarried(cacheKey: string, state: TProfileState): TProfileState {
    const carried = this.carried.get(cacheKey);
    if (!carried) return state;
    this.carried.delete(cacheKey);
    const servedFlows = new Map(carried.servedFlows);
    for (const [flowKey, servedAt] of state.servedFlows) servedFlows.set(flowKey, Math.min(servedAt, servedFlows.get(flowKey) ?? servedAt));
    return { ...state, servedFlows, exposures: new Map([...carried.exposures, ...state.exposures]) };
  }

  /** Remembers a new exposure at once, so this process keeps serving the variant before the write lands. */
  rememberExposure(environmentId: string, externalId: string, experimentKey: string, variantKey: string): void {
    this.update(environmentId, externalId, (state) => ({ ...state, exposures: new Map(state.exposures).set(experimentKey, variantKey) }));
  }

  rememberServedFlow(environmentId: string, externalId: string, flowKey: string, servedAt: number): void {
    this.update(environmentId, externalId, (state) => ({ ...state, servedFlows: new Map(state.servedFlows).set(flowKey, servedAt) }));
  }

  /** Cached states are shared and never mutated: an update replaces the entry. */
  private update(environmentId: string, externalId: string, change: (state: TProfileState) => TProfileState): void {
    const cacheKey = `${environmentId}\u0000${externalId}`;
    const hit = this.cache.get(cacheKey);
    if (hit) this.cache.set(cacheKey, { state: change(hit.state), expiresAt: hit.expiresAt });
  }

  flush(options: { deadline?: number } = {}): Promise<void> {
    return this.firstSeen.flush(options);
  }

  private async load(environmentId: string, externalId: string): Promise<TProfileState> {
    const [profile, exposures, serves] = await Promise.all([
      this.prisma.userProfile.findUnique({
        where: { environmentId_externalId: { environmentId, externalId } },
        select: {
          answers: true,
          progress: {
            select: {
              started: true, completedStepIds: true, checkedItemIds: true, completed: true, dismissed: true, dismissedAt: true, version: true, exited: true,
              flow: { select: { key: true } },
            },
          },
        },
      }),
      this.prisma.exposure.findMany({
        where: { userId: externalId, experiment: { environmentId, status: 'running' } },
        select: { variantKey: true, experiment: { select: { key: true } } },
      }),
      this.prisma.flowServe.findMany({ where: { environmentId, userId: externalId }, select: { flowKey: true, servedAt: true } }),
    ]);
    const exposureMap = new Map(exposures.map((e) => [e.experiment.key, e.variantKey]));
    const servedFlows = new Map(serves.map((s) => [s.flowKey, s.servedAt.getTime()]));
    if (!profile) {
      this.firstSeen.add(`${environmentId}\u0000${externalId}`, { environmentId, externalId });
      return exposureMap.size === 0 && servedFlows.size === 0 ? EMPTY_STATE : { ...EMPTY_STATE, exposures: exposureMap, servedFlows };
    }
    return {
      answers: profile.answers,
      progress: new Map(profile.progress.map(({ flow, dismissedAt, ...progress }) => [flow.key, { ...progress, dismissedAt: dismissedAt?.getTime() ?? null }])),
      exposures: exposureMap,
      servedFlows,
    };
  }
}
