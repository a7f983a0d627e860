import {
  answerProblem, BUILT_IN_EVENTS, DERIVED_EVENT_ID_PREFIX, progressChanges, stepsCompleteFlow, withAttribute,
  type TAttributes, type TProgressChange, type TTrackEvent, type TValidationIssue,
} from '@doorstep/schema';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { mergedProgressIds } from '../db/progress-sql.ts';
import { ValidationError } from '../errors.ts';
import type { TContentCompletion, TEnvironmentSnapshot, TFlowCompletion } from '../runtime/snapshot-store.ts';

export const MAX_EVENT_AGE_MS = 30 * 24 * 3600 * 1000;
export const MAX_EVENT_SKEW_MS = 5 * 60 * 1000;
/** Events the app sends about a flow's lifecycle; each names its flow (or lets the API infer it). */
const LIFECYCLE_EVENTS = new Set<string>(BUILT_IN_EVENTS);

export type TIngestResult = { accepted: number; duplicates: number; affectedUsers: string[] };

/**
 * Validates a batch against the environment's published content, stores new events (the client's id
 * makes retries idempotent) and applies their effects on profiles, all in one transaction: a bad
 * event rejects the batch and nothing is written.
 */
export async function ingestEvents(
  prisma: PrismaClient, snapshot: TEnvironmentSnapshot, batch: readonly TTrackEvent[], now = new Date(),
): Promise<TIngestResult> {
  const issues: TValidationIssue[] = [];
  const events = batch.map((event, index) => {
    const inferred = inferFlowKey(snapshot, event);
    if (typeof inferred === 'object') issues.push({ path: `events.${index}.flowKey`, message: inferred.problem });
    return typeof inferred === 'string' ? { ...event, flowKey: inferred } : event;
  });
  if (issues.length === 0) issues.push(...events.flatMap((event, index) => eventIssues(snapshot, event, index, now)));
  if (issues.length > 0) throw new ValidationError(issues);

  const environmentId = snapshot.environmentId;
  const newIds = await prisma.$transaction(async (tx) => {
    const served = await servedVersions(tx, snapshot, events);
    const created = await tx.event.createManyAndReturn({
      data: events.map((e) => {
        const version = e.flowKey ? served.get(servedKey(e.userId, e.flowKey)) : undefined;
        return {
          environmentId,
          clientEventId: e.id,
          userId: e.userId,
          name: e.name,
          timestamp: e.timestamp ?? now,
          flowKey: e.flowKey ?? null,
          version: version?.eventVersion ?? null,
          variantKey: version?.variantKey ?? null,
          stepId: e.stepId ?? null,
          questionId: e.questionId ?? null,
          value: e.value,
          properties: e.properties ?? {},
        };
      }),
      skipDuplicates: true,
      select: { clientEventId: true },
    });
    const fresh = new Set(created.map((c) => c.clientEventId));
    // By user, keeping each user's order: concurrent batches then lock profile rows in one order and
    // cannot deadlock each other on PostgreSQL.
    const byUser = events.filter((e) => fresh.has(e.id)).sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
    for (const event of byUser) await applyEffects(tx, snapshot, served, event);
    return fresh;
  });
  const affectedUsers = [...new Set(events.filter((e) => newIds.has(e.id)).map((e) => e.userId))];
  return { accepted: events.length, duplicates: events.length - newIds.size, affectedUsers };
}

/**
 * The flow a step or answer event belongs to, when the client left it out: the one published flow
 * with that step or question. Returns undefined when there is nothing to infer.
 */
function inferFlowKey(snapshot: TEnvironmentSnapshot, event: TTrackEvent): string | { problem: string } | undefined {
  if (event.flowKey) return undefined;
  const stepId = event.name.startsWith('step_') ? event.stepId : null;
  const questionId = event.name === 'question_answered' ? event.questionId : null;
  if (!stepId && !questionId) return undefined;
  const candidates = snapshot.flows
    .filter((flow) => (stepId ? snapshot.stepIds.get(flow.key)?.has(stepId) : snapshot.questions.get(flow.key)?.has(questionId!)))
    .map((flow) => flow.key);
  const what = stepId ? `step "${stepId}"` : `question "${questionId}"`;
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) return { problem: `No flow published in this environment has ${what}` };
  return { problem: `Several flows have ${what} (${candidates.join(', ')}); send flowKey` };
}

function eventIssues(snapshot: TEnvironmentSnapshot, event: TTrackEvent, index: number, now: Date): TValidationIssue[] {
  const at = (field: string, message: string) => ({ path: `events.${index}.${field}`, message });
  const issues: TValidationIssue[] = [];
  if (event.timestamp) {
    const age = now.getTime() - event.timestamp.getTime();
    if (age > MAX_EVENT_AGE_MS) issues.push(at('timestamp', 'Events older than 30 days are not accepted'));
    if (age < -MAX_EVENT_SKEW_MS) issues.push(at('timestamp', 'Events more than 5 minutes in the future are not accepted; check the client clock'));
  }
  if (!LIFECYCLE_EVENTS.has(event.name)) return issues;
  if (!event.flowKey) return issues;
  if (!snapshot.flowIds.has(event.flowKey)) {
    issues.push(at('flowKey', `No flow "${event.flowKey}" is published in this environment`));
    return issues;
  }
  if (event.name.startsWith('step_') && event.stepId && !snapshot.stepIds.get(event.flowKey)?.has(event.stepId)) {
    issues.push(at('stepId', `Flow "${event.flowKey}" has no step "${event.stepId}"`));
  }
  if (event.name === 'question_answered' && event.questionId) {
    const question = snapshot.questions.get(event.flowKey)?.get(event.questionId);
    if (!question) issues.push(at('questionId', `Flow "${event.flowKey}" has no question "${event.questionId}"`));
    else {
      const problem = answerProblem(question, event.value);
      if (problem) issues.push(at('value', problem));
    }
  }
  return issues;
}

type TProgressBefore = { started: boolean; completed: boolean; completedStepIds: string[] | null };

/** The version of a flow a user's events belong to, and the completion rules that apply to them. */
type TServedVersion = { rules: TContentCompletion; eventVersion: number; variantKey: string | null };

const servedKey = (userId: string, flowKey: string) => `${userId}\u0000${flowKey}`;

/**
 * The earlier version a user who started it keeps, as `keptVersionOf` in `@doorstep/schema` decides
 * for serving: a version other than the released one and the running experiment's, still in the
 * snapshot. The released version and the experiment's versions are assigned, not kept, so events are
 * judged by the content the user is shown.
 */
function keptVersionOf(completion: TFlowCompletion, progress: { started: boolean; version: number | null } | undefined): TContentCompletion | undefined {
  const pinned = progress?.started ? progress.version : null;
  if (pinned == null || pinned === completion.released.version) return undefined;
  for (const variant of completion.variants.values()) if (variant.version === pinned) return undefined;
  return completion.byVersion.get(pinned);
}

/**
 * Which version of each flow the batch's users are going through, read once per batch: the version
 * a started, unfinished flow was begun in while a publish kept them on it; otherwise the variant
 * they were exposed to under a running experiment; otherwise the released version. A finished flow's events keep the version it was finished in. An
 * exposure still waiting in the batch writer reads as the released version.
 */
async function servedVersions(
  tx: Prisma.TransactionClient, snapshot: TEnvironmentSnapshot, events: readonly TTrackEvent[],
): Promise<Map<string, TServedVersion>> {
  const pairs = new Map<string, { userId: string; flowKey: string }>();
  for (const event of events) {
    const flowKeys = LIFECYCLE_EVENTS.has(event.name) ? (event.flowKey ? [event.flowKey] : []) : (snapshot.completionEvents.get(event.name) ?? []);
    for (const flowKey of flowKeys) pairs.set(servedKey(event.userId, flowKey), { userId: event.userId, flowKey });
  }
  const served = new Map<string, TServedVersion>();
  if (pairs.size === 0) return served;
  const userIds = [...new Set([...pairs.values()].map((p) => p.userId))];
  const flowKeys = [...new Set([...pairs.values()].map((p) => p.flowKey))];
  const flowIds = flowKeys.map((key) => snapshot.flowIds.get(key)!);
  const experimentIds = flowKeys.flatMap((key) => snapshot.completion.get(key)?.experimentId ?? []);
  const [progressRows, exposures] = await Promise.all([
    tx.$queryRaw<Array<{ externalId: string; flowId: string; version: number | null; started: boolean; finished: boolean }>>`
      SELECT pr."externalId", p."flowId"::text AS "flowId", p."version", p."started", (p."completed" OR p."dismissed" OR p."exited") AS "finished"
      FROM "FlowProgress" p JOIN "UserProfile" pr ON pr."id" = p."profileId"
      WHERE pr."environmentId" = ${snapshot.environmentId}::uuid AND pr."externalId" = ANY(${userIds}::text[]) AND p."flowId" = ANY(${flowIds}::uuid[])`,
    experimentIds.length === 0 ? [] : tx.exposure.findMany({
      where: { experimentId: { in: experimentIds }, userId: { in: userIds } }, select: { experimentId: true, userId: true, variantKey: true },
    }),
  ]);
  const progressOf = new Map(progressRows.map((row) => [`${row.externalId}\u0000${row.flowId}`, row]));
  const exposureOf = new Map(exposures.map((e) => [`${e.experimentId}\u0000${e.userId}`, e.variantKey]));
  for (const [key, { userId, flowKey }] of pairs) {
    const completion = snapshot.completion.get(flowKey)!;
    const progress = progressOf.get(`${userId}\u0000${snapshot.flowIds.get(flowKey)!}`);
    const exposedTo = completion.experimentId ? exposureOf.get(`${completion.experimentId}\u0000${userId}`) : undefined;
    const variant = exposedTo === undefined ? undefined : completion.variants.get(exposedTo);
    const rules = keptVersionOf(completion, progress) ?? variant ?? completion.released;
    const eventVersion = progress?.finished && progress.version != null ? progress.version : rules.version;
    served.set(key, { rules, eventVersion, variantKey: variant && variant.version === eventVersion ? exposedTo! : null });
  }
  return served;
}

/**
 * The server's half of the runtime contract (README, "Event lifecycle"): lifecycle events move the
 * progress of the flow they name; any other event completes the steps and ticks the checklist items
 * whose completion event it is, in every published flow that has them; a started flow whose required
 * steps are all done is completed.
 */
async function applyEffects(
  tx: Prisma.TransactionClient, snapshot: TEnvironmentSnapshot, served: Map<string, TServedVersion>, event: TTrackEvent,
): Promise<void> {
  if (LIFECYCLE_EVENTS.has(event.name)) {
    // The same mapping as the studio preview's LocalRuntime: step_viewed changes no progress.
    const [change] = [...progressChanges(event, []).entries()];
    if (!change) return;
    const profileId = await upsertProfile(tx, snapshot, event.userId);
    if (event.name === 'question_answered') await storeAnswer(tx, snapshot, profileId, event);
    await changeProgress(tx, snapshot, profileId, event, change[0], change[1], served.get(servedKey(event.userId, change[0]))!);
    return;
  }
  const flowKeys = snapshot.completionEvents.get(event.name);
  if (!flowKeys) return;
  const profileId = await upsertProfile(tx, snapshot, event.userId);
  for (const flowKey of flowKeys) {
    const version = served.get(servedKey(event.userId, flowKey))!;
    const targets = version.rules.targets.get(event.name);
    if (!targets) continue;
    await changeProgress(tx, snapshot, profileId, event, flowKey, {
      started: false, stepIds: targets.stepIds, itemIds: targets.checklistItemIds, completed: false, dismissed: false,
    }, version);
  }
}

async function upsertProfile(tx: Prisma.TransactionClient, snapshot: TEnvironmentSnapshot, userId: string): Promise<string> {
  const [{ id }] = await tx.$queryRaw<{ id: string }[]>`
    INSERT INTO "UserProfile" ("id", "environmentId", "externalId", "answers", "firstSeenAt", "updatedAt")
    VALUES (gen_random_uuid(), ${snapshot.environmentId}::uuid, ${userId}, '{}'::jsonb, now(), now())
    ON CONFLICT ("environmentId", "externalId") DO UPDATE SET "updatedAt" = now()
    RETURNING "id"`;
  return id;
}

async function storeAnswer(tx: Prisma.TransactionClient, snapshot: TEnvironmentSnapshot, profileId: string, event: TTrackEvent): Promise<void> {
  const question = snapshot.questions.get(event.flowKey!)!.get(event.questionId!)!;
  // Row lock: two answers for one user in parallel must both land.
  const [{ answers }] = await tx.$queryRaw<{ answers: TAttributes }[]>`
    SELECT "answers" FROM "UserProfile" WHERE "id" = ${profileId}::uuid FOR UPDATE`;
  await tx.userProfile.update({ where: { id: profileId }, data: { answers: withAttribute(answers ?? {}, question.attribute, event.value) } });
}

/**
 * When a dismissal starts its placement's cool-off: the event's time (an offline queue may send it
 * late), never later than now, so a client clock that runs ahead cannot silence a placement.
 */
function dismissalTime(event: TTrackEvent): Date {
  const now = Date.now();
  return new Date(Math.min(event.timestamp?.getTime() ?? now, now));
}

async function changeProgress(
  tx: Prisma.TransactionClient, snapshot: TEnvironmentSnapshot, profileId: string, event: TTrackEvent, flowKey: string,
  change: TProgressChange, served: TServedVersion,
): Promise<void> {
  const flowId = snapshot.flowIds.get(flowKey)!;
  const { required } = served.rules;
  const completedNow = change.completed || (change.started && stepsCompleteFlow(required, change.stepIds));
  const [before] = await tx.$queryRaw<TProgressBefore[]>`
    SELECT "started", "completed", "completedStepIds" FROM "FlowProgress" WHERE "profileId" = ${profileId}::uuid AND "flowId" = ${flowId}::uuid`;
  // One statement, so concurrent events of one user merge instead of overwriting each other; the
  // flow completes when it is started and its required steps are all done, in whichever order
  // those facts arrive. A finished flow keeps the version it was finished in.
  const [after] = await tx.$queryRaw<{ completed: boolean }[]>`
    INSERT INTO "FlowProgress" ("profileId", "flowId", "started", "completedStepIds", "checkedItemIds", "completed", "dismissed", "dismissedAt", "version", "updatedAt")
    VALUES (${profileId}::uuid, ${flowId}::uuid, ${change.started}, ${change.stepIds}::text[], ${change.itemIds}::text[], ${completedNow}, ${change.dismissed},
      ${change.dismissed ? dismissalTime(event) : null}, ${served.rules.version}, now())
    ON CONFLICT ("profileId", "flowId") DO UPDATE SET
      "started" = "FlowProgress"."started" OR EXCLUDED."started",
      "completedStepIds" = ${mergedProgressIds('completedStepIds')},
      "checkedItemIds" = ${mergedProgressIds('checkedItemIds')},
      "completed" = "FlowProgress"."completed" OR EXCLUDED."completed" OR (
        ("FlowProgress"."started" OR EXCLUDED."started")
        AND cardinality(${required}::text[]) > 0
        AND ${required}::text[] <@ (COALESCE("FlowProgress"."completedStepIds", '{}') || EXCLUDED."completedStepIds")),
      "dismissed" = "FlowProgress"."dismissed" OR EXCLUDED."dismissed",
      "dismissedAt" = COALESCE("FlowProgress"."dismissedAt", EXCLUDED."dismissedAt"),
      "version" = CASE WHEN "FlowProgress"."completed" OR "FlowProgress"."dismissed" OR "FlowProgress"."exited"
        THEN COALESCE("FlowProgress"."version", EXCLUDED."version") ELSE EXCLUDED."version" END,
      "updatedAt" = now()
    RETURNING "completed"`;
  await recordDerivedEvents(tx, snapshot, flowKey, event, change, before ?? null, after.completed, served);
}

/**
 * What the server derived is recorded as the events an app would have sent: step_completed for a
 * step its completion event completed, flow_completed for a flow completed by its steps. Analytics,
 * funnels and experiment results read events, so derived completion counts like reported
 * completion. Their ids are deterministic, so each is stored once per user, step and flow.
 */
async function recordDerivedEvents(
  tx: Prisma.TransactionClient, snapshot: TEnvironmentSnapshot, flowKey: string,
  event: TTrackEvent, change: TProgressChange, before: TProgressBefore | null, completedAfter: boolean, served: TServedVersion,
): Promise<void> {
  // The version is part of the id: a user restarted into a new version completes its steps again.
  const derived = (name: string, stepId: string | null) => ({
    environmentId: snapshot.environmentId,
    clientEventId: `${DERIVED_EVENT_ID_PREFIX}${name}:${flowKey}:${served.eventVersion}:${stepId ?? ''}:${event.userId}`,
    userId: event.userId,
    name,
    timestamp: event.timestamp ?? new Date(),
    flowKey,
    version: served.eventVersion,
    variantKey: served.variantKey,
    stepId,
    properties: { derivedFrom: event.name },
  });
  const doneBefore = before?.completedStepIds ?? [];
  // Only in a flow the user is in: a product event also completes steps of flows they never started,
  // which must not count in those flows' funnels. When they start it, the steps done before count.
  const startsNow = change.started && !before?.started;
  const byProductEvent = LIFECYCLE_EVENTS.has(event.name) ? [] : change.stepIds.filter((id) => !doneBefore.includes(id));
  const inFlow = before?.started || change.started;
  const derivedSteps = inFlow ? [...(startsNow ? doneBefore : []), ...byProductEvent] : [];
  const events = derivedSteps.map((id) => derived('step_completed', id));
  if (!change.completed && !before?.completed && completedAfter) events.push(derived('flow_completed', null));
  if (events.length > 0) await tx.event.createMany({ data: events, skipDuplicates: true });
}
