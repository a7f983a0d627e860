import type { TEnv } from './env.ts';
import type { TDatabase } from './db/database.ts';
import { KeyResolver } from './auth/key-resolver.ts';
import { ChangeBus } from './runtime/change-bus.ts';
import { ProfileStore } from './runtime/profile-store.ts';
import { SnapshotStore } from './runtime/snapshot-store.ts';

export type TServices = {
  db: TDatabase;
  keys: KeyResolver;
  bus: ChangeBus;
  snapshots: SnapshotStore;
  profiles: ProfileStore;
};

export async function startServices(db: TDatabase, env: Pick<TEnv, 'DOORSTEP_SNAPSHOT_MAX_AGE_MS'>): Promise<TServices> {
  const services: TServices = {
    db,
    keys: new KeyResolver(db.prisma),
    bus: new ChangeBus(db),
    snapshots: new SnapshotStore(db.prisma, env.DOORSTEP_SNAPSHOT_MAX_AGE_MS),
    profiles: new ProfileStore(db.prisma),
  };
  services.bus.subscribe((change) => {
    if (change.type === 'content') services.snapshots.invalidateWorkspace(change.workspaceId);
    if (change.type === 'keys') services.keys.invalidate();
    if (change.type === 'all') {
      services.snapshots.invalidateAll();
      services.keys.invalidate();
    }
  });
  await services.bus.start();
  return services;
}

export async function stopServices(services: TServices): Promise<void> {
  await services.profiles.flush();
  await services.bus.stop();
}
