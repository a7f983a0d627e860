import { evalCondition, evaluationAttributes, type TResolvedOnboarding, type TRuntimeUser } from '@doorstep/schema';
import type { TDatabase } from '../db/database.ts';
import { insertExposures, insertFlowServes, type TExposureRow, type TFlowServeRow } from '../db/runtime-writes.ts';
import { BatchWriter, type TBatchWriterStats } from './batch-writer.ts';
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
  private readonly environmentOfExperiment = new Map<string, string>();

  constructor(db: TDatabase, private readonly profiles: ProfileStore) {
    // Once written, other API processes are told, so their cached profiles count these serves (caps)
    // and keep these variants within milliseconds rather than when their cache entries expire.
    this.exposures = new BatchWriter(async (rows) => {
      await insertExposures(db, rows);
      for (const [environmentId, userIds] of byEnvironment(rows, (row) => this.environmentOfExperiment.get(row.experimentId))) profiles.announce(environmentId, userIds);
    }, { label: 'exposures' });
    this.flowServes = new BatchWriter(async (rows) => {
      await insertFlowServes(db, rows);
      for (const [environmentId, userIds] of byEnvironment(rows, (row) => row.environmentId)) profiles.announce(environmentId, userIds);
    }, { label: 'flow serves' });
  }

  /**
   * Returns false when the writers hold more than they should (the database is down or slow): what
   * was recorded is kept, and the caller should wait for `whenRoom()` before serving more.
   */
  record(snapshot: TEnvironmentSnapshot, user: TRuntimeUser, served: TResolvedOnboarding, profile: TProfileState): boolean {
    const newServe = !profile.servedFlows.has(served.flow.key);
    const experimentId = served.variant && !served.variant.sticky ? snapshot.experimentIds.get(served.variant.experimentKey) : undefined;
    if (!newServe && !experimentId) return true;
    const now = new Date();
    const userId = user.id;
    const attributes = evaluationAttributes(user);
    const segmentKeys = snapshot.segments.filter((s) => evalCondition(attributes, s.condition, snapshot.savedGroups)).map((s) => s.key);
    const { environmentId } = snapshot;
    let room = true;
    if (newServe) {
      room = this.flowServes.add(`${environmentId}\u0000${served.flow.key}\u0000${userId}`, { environmentId, flowKey: served.flow.key, userId, segmentKeys, servedAt: now });
      this.profiles.rememberServedFlow(environmentId, userId, served.flow.key, now.getTime());
    }
    if (experimentId && served.variant) {
      this.environmentOfExperiment.set(experimentId, environmentId);
      room = this.exposures.add(`${experimentId}\u0000${userId}`, { experimentId, userId, variantKey: served.variant.key, segmentKeys, exposedAt: now }) && room;
      this.profiles.rememberExposure(environmentId, userId, served.variant.experimentKey, served.variant.key);
    }
    return room;
  }

  whenRoom(): Promise<unknown> {
    return Promise.all([this.exposures.whenRoom(), this.flowServes.whenRoom()]);
  }

  /** Resolves once what was recorded is stored; with a deadline (shutdown), gives up then, logging what was lost. */
  async flush(options: { deadline?: number } = {}): Promise<void> {
    await Promise.all([this.exposures.flush(options), this.flowServes.flush(options)]);
  }

  get stats(): Record<'exposures' | 'flowServes', TBatchWriterStats> {
    return { exposures: this.exposures.stats, flowServes: this.flowServes.stats };
  }
}

function byEnvironment<T extends { userId: string }>(rows: T[], environmentOf: (row: T) => string | undefined): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const row of rows) {
    const environmentId = environmentOf(row);
    if (!environmentId) continue;
    const ids = users.get(environmentId);
    if (ids) ids.push(row.userId);
    else users.set(environmentId, [row.userId]);
  }
  return users;
}
