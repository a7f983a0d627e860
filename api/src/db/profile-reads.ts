import type { TAttributes, TStoredProgress } from '@doorstep/schema';
import type { TDatabase } from './database.ts';

export type TProfileRow = {
  externalId: string;
  found: boolean;
  answers: TAttributes | null;
  progress: Array<TStoredProgress & { flowKey: string }>;
  exposures: Array<[experimentKey: string, variantKey: string]>;
  serves: Array<[flowKey: string, servedAtMs: number]>;
};

/**
 * Users' whole state in one round trip, each part through its own index: profiles by
 * (environment, external id), progress by profile, exposures by the primary key of the
 * environment's running experiments, first serves by (environment, user). Times as epoch ms.
 */
const PROFILES_SQL = `
SELECT
  u."externalId",
  u."ord"::int AS "ord",
  p."id" IS NOT NULL AS "found",
  p."answers",
  COALESCE((
    SELECT json_agg(json_build_object(
      'flowKey', f."key", 'started', fp."started",
      'completedStepIds', COALESCE(fp."completedStepIds", '{}'), 'checkedItemIds', COALESCE(fp."checkedItemIds", '{}'),
      'completed', fp."completed", 'dismissed', fp."dismissed", 'exited', fp."exited", 'version', fp."version",
      'dismissedAt', (extract(epoch FROM fp."dismissedAt") * 1000)::float8))
    FROM "FlowProgress" fp JOIN "Flow" f ON f."id" = fp."flowId"
    WHERE fp."profileId" = p."id"), '[]') AS "progress",
  COALESCE((
    SELECT json_agg(json_build_array(x."key", e."variantKey"))
    FROM "Experiment" x JOIN "Exposure" e ON e."experimentId" = x."id" AND e."userId" = u."externalId"
    WHERE x."environmentId" = $1::uuid AND x."status" = 'running'), '[]') AS "exposures",
  COALESCE((
    SELECT json_agg(json_build_array(s."flowKey", (extract(epoch FROM s."servedAt") * 1000)::float8))
    FROM "FlowServe" s WHERE s."environmentId" = $1::uuid AND s."userId" = u."externalId"), '[]') AS "serves"
FROM unnest($2::text[]) WITH ORDINALITY AS u("externalId", "ord")
LEFT JOIN "UserProfile" p ON p."environmentId" = $1::uuid AND p."externalId" = u."externalId"`;

/** Reads in one query at most this many users; a larger group is split. */
const MAX_GROUP = 200;

type TWaiting = { resolve: (row: TProfileRow) => void; reject: (error: unknown) => void };

/**
 * Group reads: the profiles asked for while the event loop handles one round of requests are read
 * with one query per environment. Under load, 32 concurrent first visits cost one round trip
 * instead of 32, which is what a database shared by every node has to give.
 */
export class ProfileReader {
  private pending = new Map<string, Map<string, TWaiting[]>>();
  private scheduled = false;

  constructor(private readonly db: TDatabase) {}

  read(environmentId: string, externalId: string): Promise<TProfileRow> {
    return new Promise((resolve, reject) => {
      let users = this.pending.get(environmentId);
      if (!users) this.pending.set(environmentId, (users = new Map()));
      const waiting = users.get(externalId);
      if (waiting) waiting.push({ resolve, reject });
      else users.set(externalId, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const pending = this.pending;
    this.pending = new Map();
    for (const [environmentId, users] of pending) {
      const ids = [...users.keys()];
      for (let start = 0; start < ids.length; start += MAX_GROUP) void this.readGroup(environmentId, ids.slice(start, start + MAX_GROUP), users);
    }
  }

  /**
   * Rows go to the requests by their position in the query's list, not by the id read back: PGlite
   * drops a leading U+FEFF from text it returns, and a request matched by id then waited forever.
   * A request its group left without a row fails rather than waits.
   */
  private async readGroup(environmentId: string, externalIds: string[], waiting: Map<string, TWaiting[]>): Promise<void> {
    let rows: Array<TProfileRow & { ord: number }>;
    try {
      rows = await this.db.query<TProfileRow & { ord: number }>(PROFILES_SQL, [environmentId, externalIds]);
    } catch (error) {
      for (const externalId of externalIds) for (const { reject } of waiting.get(externalId) ?? []) reject(error);
      return;
    }
    const answered = new Array<boolean>(externalIds.length).fill(false);
    for (const row of rows) {
      row.externalId = externalIds[row.ord - 1];
      answered[row.ord - 1] = true;
      for (const { resolve } of waiting.get(row.externalId) ?? []) resolve(row);
    }
    externalIds.forEach((externalId, i) => {
      if (answered[i]) return;
      for (const { reject } of waiting.get(externalId) ?? []) reject(new Error(`The profile read returned no row for user ${JSON.stringify(externalId)}`));
    });
  }
}
