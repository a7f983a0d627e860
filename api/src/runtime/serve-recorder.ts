import { evalCondition, evaluationAttributes, type TResolvedOnboarding, type TRuntimeUser } from '@doorstep/schema';
import type { TDatabase } from '../db/database.ts';
import { insertExposures, insertFlowServes, type TExposureRow, type TFlowServeRow } from '../db/runtime-writes.ts';
import { BatchWriter } from './batch-writer.ts';
import type { ProfileStore, TProfileState } from './profile-store.ts';
import type { TEnvironmentSnapshot } from './snapshot-store.ts';

// Times are the moment of serving, not of the batched insert: activations are counted from them.

/**
 * Records, off the request path and in batches, the first time a user is served a flow and the
 * first time they are served an experiment variant, each with the segments they matched then.
 * The profile cache learns of both at once, so this process neither records them twice nor
 * serves another variant before the write lands. The first write for a user wins.
 */
export class ServeRecorder {
  private readonly exposures: BatchWriter<TExposureRow>;
  private readonly flowServes: BatchWriter<TFlowServeRow>;

  constructor(db: TDatabase, private readonly profiles: ProfileStore) {
    this.exposures = new BatchWriter((rows) => insertExposures(db, rows), { label: 'exposures' });
    this.flowServes = new BatchWriter((rows) => insertFlowServes(db, rows), { label: 'flow serves' });
  }

  record(snapshot: TEnvironmentSnapshot, user: TRuntimeUser, served: TResolvedOnboarding, profile: TProfileState): void {
    const newServe = !profile.servedFlows.has(served.flow.key);
    const experimentId = served.variant && !served.variant.sticky ? snapshot.experimentIds.get(served.variant.experimentKey) : undefined;
    if (!newServe && !experimentId) return;
    const now = new Date();
    const userId = user.id;
    const attributes = evaluationAttributes(user);
    const segmentKeys = snapshot.segments.filter((s) => evalCondition(attributes, s.condition, snapshot.savedGroups)).map((s) => s.key);
    const { environmentId } = snapshot;
    if (newServe) {
      this.flowServes.add(`${environmentId}\u0000${served.flow.key}\u0000${userId}`, { environmentId, flowKey: served.flow.key, userId, segmentKeys, servedAt: now });
      this.profiles.rememberServedFlow(environmentId, userId, served.flow.key, now.getTime());
    }
    if (experimentId && served.variant) {
      this.exposures.add(`${experimentId}\u0000${userId}`, { experimentId, userId, variantKey: served.variant.key, segmentKeys, exposedAt: now });
      this.profiles.rememberExposure(environmentId, userId, served.variant.experimentKey, served.variant.key);
    }
  }

  async flush(): Promise<void> {
    await Promise.all([this.exposures.flush(), this.flowServes.flush()]);
  }
}
