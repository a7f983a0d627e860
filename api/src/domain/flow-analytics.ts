import { Prisma } from '../generated/prisma/client.ts';

type TDb = Prisma.TransactionClient;

/** A success milestone: the user tracked `event` at least `count` times within `withinHours` of starting. */
export type TMilestone = { name: string; event: string; count: number; withinHours: number | null };

export type TFlowAnalytics = {
  starts: number; completions: number; completionRate: number; activated: number; activationRate: number;
  /** Starters whose flow a publish or rollback ended (`exit`) before they finished it. */
  exited: number;
  /** By the version each user started (the first flow_started in the range): what each version did. */
  versions: Array<{ version: number | null; starts: number; completions: number; activated: number; activationRate: number }>;
  timeToActivationP50Seconds: number | null; timeToActivationP90Seconds: number | null;
  funnel: Array<{ stepId: string; viewed: number; completed: number; dropOff: number }>;
  milestones: Array<{ name: string; reached: number; rate: number }>;
  /** By the segments users matched when first served the flow. */
  segments: Array<{ segmentKey: string; starts: number; completions: number; activated: number; activationRate: number }>;
};

export type TFlowAnalyticsInput = {
  environmentId: string; flowKey: string; activationEvent: string; stepIds: string[]; from: Date; to: Date; milestones: TMilestone[];
  /** Only users who started this version, and only this version's step and completion events. */
  version?: number | null;
};

/** Users who started the flow in [from, to), and what became of them; counted by the database. */
export async function flowAnalytics(db: TDb, input: TFlowAnalyticsInput): Promise<TFlowAnalytics> {
  const version = input.version ?? null;
  const inVersion = (alias: string) => Prisma.sql`(${version}::int IS NULL OR ${Prisma.raw(alias)}"version" = ${version}::int)`;
  const starters = Prisma.sql`
    SELECT "userId", MIN("timestamp") AS "startedAt" FROM "Event"
    WHERE "environmentId" = ${input.environmentId}::uuid AND "flowKey" = ${input.flowKey} AND "name" = 'flow_started'
      AND "timestamp" >= ${input.from} AND "timestamp" < ${input.to} AND ${inVersion('')}
    GROUP BY "userId"`;

  const [summary] = await db.$queryRaw<Array<{ starts: bigint; completions: bigint; activated: bigint; exited: bigint; p50: number | null; p90: number | null }>>`
    WITH starters AS (${starters}),
    activated AS (
      SELECT s."userId", MIN(e."timestamp") - s."startedAt" AS "tta" FROM starters s
      JOIN "Event" e ON e."environmentId" = ${input.environmentId}::uuid AND e."userId" = s."userId" AND e."name" = ${input.activationEvent} AND e."timestamp" >= s."startedAt"
      GROUP BY s."userId", s."startedAt"
    )
    SELECT (SELECT COUNT(*) FROM starters) AS starts,
      (SELECT COUNT(DISTINCT e."userId") FROM "Event" e JOIN starters s ON s."userId" = e."userId"
        WHERE e."environmentId" = ${input.environmentId}::uuid AND e."flowKey" = ${input.flowKey} AND e."name" = 'flow_completed' AND e."timestamp" >= s."startedAt"
          AND ${inVersion('e.')}) AS completions,
      (SELECT COUNT(*) FROM activated) AS activated,
      (SELECT COUNT(*) FROM starters s JOIN "UserProfile" pr ON pr."environmentId" = ${input.environmentId}::uuid AND pr."externalId" = s."userId"
        JOIN "FlowProgress" p ON p."profileId" = pr."id" JOIN "Flow" f ON f."id" = p."flowId" AND f."key" = ${input.flowKey}
        WHERE p."exited" AND ${inVersion('p.')}) AS exited,
      (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM "tta")) FROM activated) AS p50,
      (SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM "tta")) FROM activated) AS p90`;

  const steps = await db.$queryRaw<Array<{ stepId: string; viewed: bigint; completed: bigint }>>`
    WITH starters AS (${starters})
    SELECT e."stepId",
      COUNT(DISTINCT e."userId") FILTER (WHERE e."name" = 'step_viewed') AS viewed,
      COUNT(DISTINCT e."userId") FILTER (WHERE e."name" = 'step_completed') AS completed
    FROM "Event" e JOIN starters s ON s."userId" = e."userId"
    WHERE e."environmentId" = ${input.environmentId}::uuid AND e."flowKey" = ${input.flowKey} AND e."name" IN ('step_viewed', 'step_completed')
      AND e."timestamp" >= s."startedAt" AND e."stepId" IS NOT NULL AND ${inVersion('e.')}
    GROUP BY e."stepId"`;

  const versionRows = await db.$queryRaw<Array<{ version: number | null; starts: bigint; completions: bigint; activated: bigint }>>`
    WITH starters AS (${starters}),
    started AS (
      SELECT DISTINCT ON (s."userId") s."userId", s."startedAt", e."version" FROM starters s
      JOIN "Event" e ON e."environmentId" = ${input.environmentId}::uuid AND e."userId" = s."userId" AND e."flowKey" = ${input.flowKey}
        AND e."name" = 'flow_started' AND e."timestamp" = s."startedAt"
      ORDER BY s."userId", e."version"
    )
    SELECT st."version", COUNT(*) AS starts,
      COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM "Event" e WHERE e."environmentId" = ${input.environmentId}::uuid AND e."userId" = st."userId"
        AND e."flowKey" = ${input.flowKey} AND e."name" = 'flow_completed' AND e."timestamp" >= st."startedAt"
        AND e."version" IS NOT DISTINCT FROM st."version")) AS completions,
      COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM "Event" e WHERE e."environmentId" = ${input.environmentId}::uuid AND e."userId" = st."userId"
        AND e."name" = ${input.activationEvent} AND e."timestamp" >= st."startedAt")) AS activated
    FROM started st GROUP BY st."version" ORDER BY st."version" DESC NULLS LAST`;

  const segmentRows = await db.$queryRaw<Array<{ segmentKey: string; starts: bigint; completions: bigint; activated: bigint }>>`
    WITH starters AS (${starters})
    SELECT seg AS "segmentKey", COUNT(*) AS starts,
      COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM "Event" e WHERE e."environmentId" = ${input.environmentId}::uuid AND e."userId" = s."userId"
        AND e."flowKey" = ${input.flowKey} AND e."name" = 'flow_completed' AND e."timestamp" >= s."startedAt" AND ${inVersion('e.')})) AS completions,
      COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM "Event" e WHERE e."environmentId" = ${input.environmentId}::uuid AND e."userId" = s."userId"
        AND e."name" = ${input.activationEvent} AND e."timestamp" >= s."startedAt")) AS activated
    FROM starters s
    JOIN "FlowServe" f ON f."environmentId" = ${input.environmentId}::uuid AND f."flowKey" = ${input.flowKey} AND f."userId" = s."userId"
    CROSS JOIN LATERAL unnest(f."segmentKeys") AS seg
    GROUP BY seg ORDER BY seg`;

  // Each milestone narrows the users who reached the one before, so the counts form a funnel.
  let reachedSoFar = Prisma.sql`SELECT "userId", "startedAt" FROM starters`;
  const milestoneCounts: number[] = [];
  for (const milestone of input.milestones) {
    reachedSoFar = Prisma.sql`
      SELECT r."userId", r."startedAt" FROM (${reachedSoFar}) r
      WHERE (SELECT COUNT(*) FROM "Event" e WHERE e."environmentId" = ${input.environmentId}::uuid AND e."userId" = r."userId" AND e."name" = ${milestone.event}
        AND e."timestamp" >= r."startedAt" AND (${milestone.withinHours}::int IS NULL OR e."timestamp" <= r."startedAt" + make_interval(hours => ${milestone.withinHours}::int))) >= ${milestone.count}`;
    const [{ reached }] = await db.$queryRaw<Array<{ reached: bigint }>>`WITH starters AS (${starters}) SELECT COUNT(*) AS reached FROM (${reachedSoFar}) m`;
    milestoneCounts.push(Number(reached));
  }

  const starts = Number(summary.starts);
  const completions = Number(summary.completions);
  const activated = Number(summary.activated);
  const rate = (n: number) => (starts === 0 ? 0 : n / starts);
  const byStep = new Map(steps.map((s) => [s.stepId, s]));
  const orderedSteps = [...input.stepIds, ...steps.map((s) => s.stepId).filter((id) => !input.stepIds.includes(id)).sort()];
  return {
    starts, completions, completionRate: rate(completions), activated, activationRate: rate(activated), exited: Number(summary.exited),
    versions: versionRows.map((r) => {
      const versionStarts = Number(r.starts);
      return {
        version: r.version, starts: versionStarts, completions: Number(r.completions), activated: Number(r.activated),
        activationRate: versionStarts === 0 ? 0 : Number(r.activated) / versionStarts,
      };
    }),
    timeToActivationP50Seconds: summary.p50 === null ? null : Number(summary.p50),
    timeToActivationP90Seconds: summary.p90 === null ? null : Number(summary.p90),
    funnel: orderedSteps.map((stepId) => {
      const viewed = Number(byStep.get(stepId)?.viewed ?? 0);
      const completed = Number(byStep.get(stepId)?.completed ?? 0);
      return { stepId, viewed, completed, dropOff: Math.max(0, viewed - completed) };
    }),
    milestones: input.milestones.map((m, i) => ({ name: m.name, reached: milestoneCounts[i], rate: rate(milestoneCounts[i]) })),
    segments: segmentRows.map((r) => {
      const segmentStarts = Number(r.starts);
      const segmentActivated = Number(r.activated);
      return {
        segmentKey: r.segmentKey, starts: segmentStarts, completions: Number(r.completions), activated: segmentActivated,
        activationRate: segmentStarts === 0 ? 0 : segmentActivated / segmentStarts,
      };
    }),
  };
}
