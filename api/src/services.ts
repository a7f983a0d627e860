import type { TDatabase } from './db/database.ts';
import { KeyResolver } from './auth/key-resolver.ts';
import { DEFAULT_SIGN_IN_RULES, SignInLimiter, type TSignInRules } from './limits/sign-in-limiter.ts';
import { DEFAULT_RATE_LIMITS, RequestLimits, type TRateLimits } from './limits/request-limits.ts';
import { ChangeBus } from './runtime/change-bus.ts';
import { EventCommitter, type TEventCommitterOptions } from './runtime/event-committer.ts';
import { EventStreamHub, type TEventStreamLimits } from './runtime/event-streams.ts';
import { ServeRecorder } from './runtime/serve-recorder.ts';
import { ProfileStore } from './runtime/profile-store.ts';
import { SnapshotStore } from './runtime/snapshot-store.ts';

export type TServices = {
  db: TDatabase;
  keys: KeyResolver;
  signIns: SignInLimiter;
  limits: RequestLimits;
  bus: ChangeBus;
  snapshots: SnapshotStore;
  streams: EventStreamHub;
  profiles: ProfileStore;
  serves: ServeRecorder;
  events: EventCommitter;
};

// PGlite has one process, which invalidates profiles itself. On PostgreSQL another API process may
// have handled the `track`: its notice (NOTIFY, milliseconds) drops the cached profile here, and the
// TTL bounds the staleness should a notice be lost.
const PROFILE_TTL_MS = { pglite: 10 * 60_000, postgres: 15_000 };

export type TServiceOptions = { snapshotMaxAgeMs: number; eventStreamLimits?: TEventStreamLimits; eventCommitter?: TEventCommitterOptions; cacheTtlMs?: number;
  rateLimits?: TRateLimits; signInRules?: TSignInRules;
};

export async function startServices(db: TDatabase, options: TServiceOptions): Promise<TServices> {
  const bus = new ChangeBus(db);
  const profiles = new ProfileStore(db, (change) => bus.announce(change), { ttlMs: options.cacheTtlMs ?? PROFILE_TTL_MS[db.driver] });
  const snapshots = new SnapshotStore(db.prisma, options.snapshotMaxAgeMs);
  const keys = new KeyResolver(db.prisma, undefined, options.cacheTtlMs);
  const services: TServices = {
    db,
    keys,
    signIns: new SignInLimiter(db.prisma, options.signInRules ?? DEFAULT_SIGN_IN_RULES),
    limits: new RequestLimits(keys, db, options.rateLimits ?? DEFAULT_RATE_LIMITS),
    bus,
    snapshots,
    streams: new EventStreamHub(snapshots, options.eventStreamLimits),
    profiles,
    serves: new ServeRecorder(db, profiles),
    events: new EventCommitter(db.prisma, options.eventCommitter),
  };
  services.bus.subscribe((change) => {
    if (change.type === 'content') services.snapshots.invalidateWorkspace(change.workspaceId);
    if (change.type === 'content' && change.progress) services.profiles.clear();
    if (change.type === 'keys') services.keys.invalidate();
    if (change.type === 'profiles') for (const userId of change.userIds) services.profiles.invalidate(change.environmentId, userId);
    if (change.type === 'all') {
      // Expired rather than dropped: a database that fails again right after still has them as fallback.
      services.snapshots.expireAll();
      services.keys.expireAll();
      services.profiles.expireAll();
    }
  });
  // After the handler above: snapshots are dropped before the streams read their new ETag.
  services.bus.subscribe((change) => services.streams.onChange(change));
  await services.bus.start();
  return services;
}

/** How long a shutdown keeps retrying off-path writes (first sightings, serves, exposures) while the database fails. */
const SHUTDOWN_FLUSH_MS = 10_000;

export async function stopServices(services: TServices): Promise<void> {
  services.streams.stop();
  await services.limits.stop();
  // Events first: the requests waiting on them are answered before the process goes.
  await services.events.drain();
  const deadline = Date.now() + SHUTDOWN_FLUSH_MS;
  await Promise.all([services.profiles.flush({ deadline }), services.serves.flush({ deadline })]);
  await services.bus.stop();
}
