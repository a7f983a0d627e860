import type { TAttributes, TStoredProgress } from '@doorstep/schema';
import type { TDatabase } from '../db/database.ts';
import { databaseErrorKind } from '../db/database-errors.ts';
import { STALE_WHEN_UNAVAILABLE_MS } from '../auth/key-resolver.ts';
import { ProfileReader } from '../db/profile-reads.ts';
import { insertFirstSightings } from '../db/runtime-writes.ts';
import { BatchWriter } from './batch-writer.ts';
import type { TProfilesChange } from './change-bus.ts';
import { ProfileNotices } from './profile-notices.ts';

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
  /** Reads under way, shared by concurrent requests for one user; `stale` once a change overtakes one. */
  private readonly loading = new Map<string, { stale: boolean; promise: Promise<TProfileState> }>();
  private readonly notices: ProfileNotices;
  private readonly reader: ProfileReader;
  /** Serves and exposures known to this process, kept across an invalidation until the reload merges them. */
  private readonly carried = new Map<string, Pick<TProfileState, 'servedFlows' | 'exposures'>>();
  private readonly firstSeen: BatchWriter<{ environmentId: string; externalId: string }>;
  private readonly maxEntries: number;
  private readonly ttlMs: number;

  constructor(private readonly db: TDatabase, publish: (change: TProfilesChange) => Promise<void>, options: TProfileStoreOptions = {}) {
    this.notices = new ProfileNotices(publish);
    this.reader = new ProfileReader(db);
    this.maxEntries = options.maxEntries ?? 50_000;
    this.ttlMs = options.ttlMs ?? 3_000;
    this.firstSeen = new BatchWriter((rows) => insertFirstSightings(db, rows), {
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
    let loading = this.loading.get(cacheKey);
    if (!loading) {
      const started = { stale: false, promise: this.load(environmentId, externalId) };
      this.loading.set(cacheKey, started);
      loading = started;
      void started.promise.then(
        (loaded) => {
          if (this.loading.get(cacheKey) === started) this.loading.delete(cacheKey);
          // A change that landed while the read was under way may not be in it: serve it once, keep none.
          if (started.stale) return;
          const state = this.withCarried(cacheKey, loaded);
          if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
          this.cache.set(cacheKey, { state, expiresAt: Date.now() + this.ttlMs });
        },
        () => { if (this.loading.get(cacheKey) === started) this.loading.delete(cacheKey); },
      );
    }
    let loaded: TProfileState;
    try {
      loaded = await loading.promise;
    } catch (error) {
      // The database is unreachable: a user this node knew is served as it last knew them, for a while.
      const stale = this.cache.get(cacheKey) ?? hit;
      if (stale && Date.now() - stale.expiresAt < STALE_WHEN_UNAVAILABLE_MS && databaseErrorKind(error) === 'transient') return stale.state;
      throw error;
    }
    return this.cache.get(cacheKey)?.state ?? this.withCarried(cacheKey, loaded, false);
  }

  /** The cached state of a user, if one is cached and fresh; reads nothing. */
  peek(environmentId: string, externalId: string): TProfileState | undefined {
    const hit = this.cache.get(`${environmentId}\u0000${externalId}`);
    return hit && hit.expiresAt > Date.now() ? hit.state : undefined;
  }

  /**
   * Users whose state this process just changed (events, a merge): reloaded here on their next
   * read, and on every other API process as soon as the change bus delivers the notice.
   */
  changed(environmentId: string, externalIds: readonly string[]): void {
    for (const externalId of externalIds) this.invalidate(environmentId, externalId);
    this.notices.add(environmentId, externalIds);
  }

  /** Users whose state this process already holds (it wrote it): only the other processes must reload them. */
  announce(environmentId: string, externalIds: readonly string[]): void {
    this.notices.add(environmentId, externalIds);
  }

  /**
   * Reloads the profile on its next read. What this process served meanwhile (first serves,
   * exposures) may still wait in the serve recorder's batch, so it is carried over to the reload:
   * serves and exposures are only ever added.
   */
  invalidate(environmentId: string, externalId: string): void {
    const cacheKey = `${environmentId}\u0000${externalId}`;
    const loading = this.loading.get(cacheKey);
    if (loading) {
      // Requests from now on start their own read: the one under way may predate the change.
      loading.stale = true;
      this.loading.delete(cacheKey);
    }
    const hit = this.cache.get(cacheKey);
    this.cache.delete(cacheKey);
    if (hit && (hit.state.servedFlows.size > 0 || hit.state.exposures.size > 0)) {
      if (this.carried.size >= this.maxEntries) this.carried.delete(this.carried.keys().next().value as string);
      this.carried.set(cacheKey, { servedFlows: hit.state.servedFlows, exposures: hit.state.exposures });
    }
  }

  /**
   * Every cached profile is reloaded on its next read, when changes may have been missed (a LISTEN
   * connection that came back), but kept meanwhile as the fallback for a database that fails again:
   * the stale window counts from now.
   */
  expireAll(): void {
    const now = Date.now();
    const entries = [...this.cache];
    this.clear();
    for (const [cacheKey, entry] of entries) this.cache.set(cacheKey, { state: entry.state, expiresAt: Math.min(entry.expiresAt, now) });
  }

  /** Drops every cached profile, when changes may have been missed. */
  clear(): void {
    for (const loading of this.loading.values()) loading.stale = true;
    this.loading.clear();
    for (const [environmentIdAndUser] of this.cache) {
      const [environmentId, externalId] = environmentIdAndUser.split('\u0000');
      this.invalidate(environmentId, externalId);
    }
  }

  private withCarried(cacheKey: string, state: TProfileState, consume = true): TProfileState {
    const carried = this.carried.get(cacheKey);
    if (!carried) return state;
    if (consume) this.carried.delete(cacheKey);
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

  /**
   * Cached states are shared and never mutated: an update replaces the entry. Without an entry (it was
   * just invalidated, or its read was overtaken), the serve is carried to the next read, which may
   * come before the batch writes it.
   */
  private update(environmentId: string, externalId: string, change: (state: TProfileState) => TProfileState): void {
    const cacheKey = `${environmentId}\u0000${externalId}`;
    const hit = this.cache.get(cacheKey);
    if (hit) {
      this.cache.set(cacheKey, { state: change(hit.state), expiresAt: hit.expiresAt });
      return;
    }
    const carried = this.carried.get(cacheKey) ?? { servedFlows: new Map<string, number>(), exposures: new Map<string, string>() };
    const changed = change({ ...EMPTY_STATE, ...carried });
    if (!this.carried.has(cacheKey) && this.carried.size >= this.maxEntries) this.carried.delete(this.carried.keys().next().value as string);
    this.carried.set(cacheKey, { servedFlows: changed.servedFlows, exposures: changed.exposures });
  }

  async flush(options: { deadline?: number } = {}): Promise<void> {
    await Promise.all([this.firstSeen.flush(options), this.notices.flush()]);
  }

  private async load(environmentId: string, externalId: string): Promise<TProfileState> {
    const row = await this.reader.read(environmentId, externalId);
    const exposures = new Map(row.exposures);
    const servedFlows = new Map(row.serves);
    if (!row.found) {
      if (!this.firstSeen.add(`${environmentId}\u0000${externalId}`, { environmentId, externalId })) await this.firstSeen.whenRoom();
      return exposures.size === 0 && servedFlows.size === 0 ? EMPTY_STATE : { ...EMPTY_STATE, exposures, servedFlows };
    }
    return {
      answers: row.answers ?? {},
      progress: new Map(row.progress.map(({ flowKey, ...progress }) => [flowKey, progress])),
      exposures,
      servedFlows,
    };
  }
}
