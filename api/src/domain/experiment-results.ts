import {
  chanceToBeat, sampleRatioMismatchPValue, twoProportionPValue, wilsonInterval,
} from '@doorstep/schema';
import type { Prisma } from '../generated/prisma/client.ts';

/** Below this many exposed users per variant, results are shown with a warning. */
export const MIN_USERS_PER_VARIANT = 100;
export const SRM_THRESHOLD = 0.001;

type TDb = Prisma.TransactionClient;
type TVariant = { key: string; versionNumber: number; weight: number };
export type TExperimentForResults = {
  id: string; environmentId: string; variants: TVariant[]; activationEvent: string; flowKey: string; activationWindowHours: number | null;
};

export type TVariantResult = {
  key: string; versionNumber: number; weight: number; exposed: number; activated: number; activationRate: number;
  interval: [number, number]; uplift: number | null; chanceToBeatControl: number | null; pValue: number | null;
  timeToActivationP50Seconds: number | null; timeToActivationP90Seconds: number | null;
};

/** Upper bounds (seconds) of the time-to-activation histogram; the last bucket is open-ended. */
export const TTA_BUCKETS = [60, 300, 900, 3600, 4 * 3600, 86400, 3 * 86400, 7 * 86400];

export type TExperimentResults = {
  variants: TVariantResult[];
  /** Activated users per variant by time to activation: `upToSeconds` null is beyond the last bound. */
  timeToActivation: Array<{ variantKey: string; upToSeconds: number | null; users: number }>;
  funnel: Array<{ variantKey: string; stepId: string; viewed: number; completed: number }>;
  segments: Array<{ segmentKey: string; variantKey: string; exposed: number; activated: number }>;
  srmPValue: number;
  warnings: string[];
};

/**
 * One experiment's results, aggregated by the database: users are counted per variant, an
 * activation is the flow's activation event at or after the user's exposure (within the window,
 * if one is set), and only the counts reach this process.
 */
export async function experimentResults(db: TDb, experiment: TExperimentForResults): Promise<TExperimentResults> {
  const window = experiment.activationWindowHours;
  const perVariant = await db.$queryRaw<Array<{ variantKey: string; exposed: bigint; activated: bigint; p50: number | null; p90: number | null }>>`
    WITH exposed AS (
      SELECT "userId", "variantKey", "exposedAt" FROM "Exposure" WHERE "experimentId" = ${experiment.id}::uuid
    ), activated AS (
      SELECT x."userId", MIN(e."timestamp") AS "activatedAt"
      FROM exposed x
      JOIN "Event" e ON e."environmentId" = ${experiment.environmentId}::uuid AND e."userId" = x."userId"
        AND e."name" = ${experiment.activationEvent} AND e."timestamp" >= x."exposedAt"
        AND (${window}::int IS NULL OR e."timestamp" <= x."exposedAt" + make_interval(hours => ${window}::int))
      GROUP BY x."userId"
    )
    SELECT x."variantKey", COUNT(*) AS exposed, COUNT(a."activatedAt") AS activated,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM a."activatedAt" - x."exposedAt")) FILTER (WHERE a."activatedAt" IS NOT NULL) AS p50,
      percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM a."activatedAt" - x."exposedAt")) FILTER (WHERE a."activatedAt" IS NOT NULL) AS p90
    FROM exposed x LEFT JOIN activated a ON a."userId" = x."userId"
    GROUP BY x."variantKey"`;

  const histogramRows = await db.$queryRaw<Array<{ variantKey: string; bucket: number; users: bigint }>>`
    WITH exposed AS (
      SELECT "userId", "variantKey", "exposedAt" FROM "Exposure" WHERE "experimentId" = ${experiment.id}::uuid
    ), activated AS (
      SELECT x."variantKey", EXTRACT(EPOCH FROM MIN(e."timestamp") - x."exposedAt") AS seconds
      FROM exposed x
      JOIN "Event" e ON e."environmentId" = ${experiment.environmentId}::uuid AND e."userId" = x."userId"
        AND e."name" = ${experiment.activationEvent} AND e."timestamp" >= x."exposedAt"
        AND (${window}::int IS NULL OR e."timestamp" <= x."exposedAt" + make_interval(hours => ${window}::int))
      GROUP BY x."userId", x."variantKey", x."exposedAt"
    )
    SELECT "variantKey", width_bucket(seconds, ${TTA_BUCKETS}::float8[]) AS bucket, COUNT(*) AS users
    FROM activated GROUP BY "variantKey", bucket`;

  const funnelRows = await db.$queryRaw<Array<{ variantKey: string; stepId: string; viewed: bigint; completed: bigint }>>`
    SELECT x."variantKey", e."stepId",
      COUNT(DISTINCT e."userId") FILTER (WHERE e."name" = 'step_viewed') AS viewed,
      COUNT(DISTINCT e."userId") FILTER (WHERE e."name" = 'step_completed') AS completed
    FROM "Exposure" x
    JOIN "Event" e ON e."environmentId" = ${experiment.environmentId}::uuid AND e."userId" = x."userId" AND e."flowKey" = ${experiment.flowKey}
      AND e."name" IN ('step_viewed', 'step_completed') AND e."timestamp" >= x."exposedAt"
    WHERE x."experimentId" = ${experiment.id}::uuid AND e."stepId" IS NOT NULL
    GROUP BY x."variantKey", e."stepId"`;

  const segmentRows = await db.$queryRaw<Array<{ segmentKey: string; variantKey: string; exposed: bigint; activated: bigint }>>`
    WITH exposed AS (
      SELECT "userId", "variantKey", "exposedAt", unnest("segmentKeys") AS "segmentKey" FROM "Exposure" WHERE "experimentId" = ${experiment.id}::uuid
    )
    SELECT x."segmentKey", x."variantKey", COUNT(*) AS exposed,
      COUNT(*) FILTER (WHERE EXISTS (
        SELECT 1 FROM "Event" e WHERE e."environmentId" = ${experiment.environmentId}::uuid AND e."userId" = x."userId"
          AND e."name" = ${experiment.activationEvent} AND e."timestamp" >= x."exposedAt"
          AND (${window}::int IS NULL OR e."timestamp" <= x."exposedAt" + make_interval(hours => ${window}::int))
      )) AS activated
    FROM exposed x GROUP BY x."segmentKey", x."variantKey"`;

  const counts = new Map(perVariant.map((r) => [r.variantKey, r]));
  const base = experiment.variants.map((variant) => {
    const row = counts.get(variant.key);
    const exposed = Number(row?.exposed ?? 0);
    const activated = Number(row?.activated ?? 0);
    return { variant, exposed, activated, p50: row?.p50 ?? null, p90: row?.p90 ?? null };
  });
  const control = base[0];
  const controlRate = control.exposed > 0 ? control.activated / control.exposed : 0;
  const variants: TVariantResult[] = base.map((v, index) => {
    const rate = v.exposed > 0 ? v.activated / v.exposed : 0;
    const isControl = index === 0;
    return {
      key: v.variant.key,
      versionNumber: v.variant.versionNumber,
      weight: v.variant.weight,
      exposed: v.exposed,
      activated: v.activated,
      activationRate: rate,
      interval: wilsonInterval(v.activated, v.exposed),
      uplift: isControl || controlRate === 0 ? null : (rate - controlRate) / controlRate,
      chanceToBeatControl: isControl || v.exposed === 0 || control.exposed === 0 ? null : chanceToBeat(control.activated, control.exposed, v.activated, v.exposed),
      pValue: isControl || v.exposed === 0 || control.exposed === 0 ? null : twoProportionPValue(control.activated, control.exposed, v.activated, v.exposed),
      timeToActivationP50Seconds: v.p50 === null ? null : Number(v.p50),
      timeToActivationP90Seconds: v.p90 === null ? null : Number(v.p90),
    };
  });

  const srmPValue = sampleRatioMismatchPValue(variants.map((v) => v.exposed), variants.map((v) => v.weight));
  const warnings: string[] = [];
  if (srmPValue < SRM_THRESHOLD) {
    warnings.push(`Sample ratio mismatch: the split of users (${variants.map((v) => v.exposed).join(' / ')}) is very unlikely under the configured weights (p = ${srmPValue.toExponential(1)}). Assignment or tracking is probably broken; do not trust these results.`);
  }
  const small = variants.filter((v) => v.exposed < MIN_USERS_PER_VARIANT);
  if (small.length > 0) {
    warnings.push(`Too few users to judge yet: ${small.map((v) => `${v.key} has ${v.exposed}`).join(', ')} (at least ${MIN_USERS_PER_VARIANT} per variant are needed).`);
  }

  const timeToActivation = experiment.variants.flatMap((variant) =>
    [...TTA_BUCKETS, null].map((upToSeconds, bucket) => ({
      variantKey: variant.key,
      upToSeconds,
      users: Number(histogramRows.find((r) => r.variantKey === variant.key && Number(r.bucket) === bucket)?.users ?? 0),
    })),
  );

  return {
    variants,
    timeToActivation,
    funnel: funnelRows.map((r) => ({ variantKey: r.variantKey, stepId: r.stepId, viewed: Number(r.viewed), completed: Number(r.completed) })),
    segments: segmentRows.map((r) => ({ segmentKey: r.segmentKey, variantKey: r.variantKey, exposed: Number(r.exposed), activated: Number(r.activated) })),
    srmPValue,
    warnings,
  };
}
