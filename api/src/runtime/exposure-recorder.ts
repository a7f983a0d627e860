import { evalCondition, type TAttributes } from '@doorstep/schema';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { BatchWriter } from './batch-writer.ts';
import type { ProfileStore } from './profile-store.ts';
import type { TEnvironmentSnapshot } from './snapshot-store.ts';

// exposedAt is the moment of serving, not of the batched insert: activations are counted from it.
type TExposureRow = { experimentId: string; userId: string; variantKey: string; segmentKeys: string[]; exposedAt: Date };

/**
 * Records the first time a user is served a variant: in batches off the request path, and at once in
 * the profile cache so this process keeps serving the same variant. The first write for a user wins.
 */
export class ExposureRecorder {
  private readonly writer: BatchWriter<TExposureRow>;

  constructor(prisma: PrismaClient, private readonly profiles: ProfileStore) {
    this.writer = new BatchWriter((data) => prisma.exposure.createMany({ data, skipDuplicates: true }), { label: 'exposures' });
  }

  record(snapshot: TEnvironmentSnapshot, userId: string, attributes: TAttributes, experimentKey: string, variantKey: string): void {
    const experimentId = snapshot.experimentIds.get(experimentKey);
    if (!experimentId) return;
    const segmentKeys = snapshot.segments.filter((s) => evalCondition(attributes, s.condition, snapshot.savedGroups)).map((s) => s.key);
    this.writer.add(`${experimentId}\u0000${userId}`, { experimentId, userId, variantKey, segmentKeys, exposedAt: new Date() });
    this.profiles.rememberExposure(snapshot.environmentId, userId, experimentKey, variantKey);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }
}
