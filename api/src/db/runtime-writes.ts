import type { TDatabase } from './database.ts';

// The runtime's off-path inserts, in one statement each whatever the batch size: rows travel as one
// JSON parameter. Prisma's createMany compiled every batch anew, which cost more CPU than serving.
// Times are UTC in `timestamp(3)` columns, as Prisma stores them, whatever the session's time zone.

export type TFirstSighting = { environmentId: string; externalId: string };
export type TExposureRow = { experimentId: string; userId: string; variantKey: string; segmentKeys: string[]; exposedAt: Date };
export type TFlowServeRow = { environmentId: string; flowKey: string; userId: string; segmentKeys: string[]; servedAt: Date };

export async function insertFirstSightings(db: TDatabase, rows: TFirstSighting[]): Promise<void> {
  await db.query(`
    INSERT INTO "UserProfile" ("id", "environmentId", "externalId", "answers", "firstSeenAt", "updatedAt")
    SELECT gen_random_uuid(), r."environmentId", r."externalId", '{}'::jsonb, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
    FROM jsonb_to_recordset($1::jsonb) AS r("environmentId" uuid, "externalId" text)
    ON CONFLICT ("environmentId", "externalId") DO NOTHING`, [JSON.stringify(rows)]);
}

export async function insertExposures(db: TDatabase, rows: TExposureRow[]): Promise<void> {
  await db.query(`
    INSERT INTO "Exposure" ("experimentId", "userId", "variantKey", "segmentKeys", "exposedAt")
    SELECT r."experimentId", r."userId", r."variantKey", r."segmentKeys", r."exposedAt"
    FROM jsonb_to_recordset($1::jsonb) AS r("experimentId" uuid, "userId" text, "variantKey" text, "segmentKeys" text[], "exposedAt" timestamp(3))
    ON CONFLICT DO NOTHING`, [JSON.stringify(rows)]);
}

export async function insertFlowServes(db: TDatabase, rows: TFlowServeRow[]): Promise<void> {
  await db.query(`
    INSERT INTO "FlowServe" ("environmentId", "flowKey", "userId", "segmentKeys", "servedAt")
    SELECT r."environmentId", r."flowKey", r."userId", r."segmentKeys", r."servedAt"
    FROM jsonb_to_recordset($1::jsonb) AS r("environmentId" uuid, "flowKey" text, "userId" text, "segmentKeys" text[], "servedAt" timestamp(3))
    ON CONFLICT DO NOTHING`, [JSON.stringify(rows)]);
}
