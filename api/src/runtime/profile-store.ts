import type { TAttributes, TFlowProgress } from '@doorstep/schema';
import type { PrismaClient } from '../generated/prisma/client.ts';

export type TProfileState = {
  /** Attributes set by answers; they override what the app sends. */
  answers: TAttributes;
  progress: Map<string, TFlowProgress>;
};

const EMPTY_STATE: TProfileState = Object.freeze({ answers: {}, progress: new Map() }) as TProfileState;

export type TProfileStoreOptions = { maxEntries?: number; ttlMs?: number; flushIntervalMs?: number };

/**
 * Profiles in a bounded LRU cache. The short TTL bounds how stale another API process's view can be
 * after a `track` lands elsewhere; the process that handled the `track` invalidates at once.
 * First sightings are written in batches, off the request path.
 */
export class ProfileStore {
  private readonly cache = new Map<string, { state: TProfileState; expiresAt: number }>();
  private readonly firstSeen = new Map<string, { environmentId: string; externalId: string }>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly flushIntervalMs: number;

  constructor(private readonly prisma: PrismaClient, options: TProfileStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 50_000;
    this.ttlMs = options.ttlMs ?? 3_000;
    this.flushIntervalMs = options.flushIntervalMs ?? 100;
  }

  async get(environmentId: string, externalId: string): Promise<TProfileState> {
    const cacheKey = `${environmentId}\u0000${externalId}`;
    const hit = this.cache.get(cacheKey);
    if (hit && hit.expiresAt > Date.now()) {
      this.cache.delete(cacheKey);
      this.cache.set(cacheKey, hit);
      return hit.state;
    }
    const state = await this.load(environmentId, externalId);
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(cacheKey, { state, expiresAt: Date.now() + this.ttlMs });
    return state;
  }

  invalidate(environmentId: string, externalId: string): void {
    this.cache.delete(`${environmentId}\u0000${externalId}`);
  }

  async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batch = [...this.firstSeen.values()];
    this.firstSeen.clear();
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing
      .then(() => this.prisma.userProfile.createMany({ data: batch, skipDuplicates: true }))
      .then(() => undefined, (error) => { console.error('Could not record first-seen profiles', error); });
    return this.flushing;
  }

  private async load(environmentId: string, externalId: string): Promise<TProfileState> {
    const profile = await this.prisma.userProfile.findUnique({
      where: { environmentId_externalId: { environmentId, externalId } },
      select: {
        answers: true,
        progress: { select: { completedStepIds: true, completed: true, dismissed: true, flow: { select: { key: true } } } },
      },
    });
    if (!profile) {
      this.recordFirstSeen(environmentId, externalId);
      return EMPTY_STATE;
    }
    return {
      answers: (profile.answers ?? {}) as TAttributes,
      progress: new Map(profile.progress.map((p) => [p.flow.key, { completedStepIds: p.completedStepIds, completed: p.completed, dismissed: p.dismissed }])),
    };
  }

  private recordFirstSeen(environmentId: string, externalId: string): void {
    this.firstSeen.set(`${environmentId}\u0000${externalId}`, { environmentId, externalId });
    if (this.firstSeen.size >= 500) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), this.flushIntervalMs);
  }
}
