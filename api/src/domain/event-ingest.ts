import {
  answerProblem, applyProgressChange, BUILT_IN_EVENTS, DERIVED_EVENT_ID_PREFIX, EMPTY_PROGRESS, progressChanges, withAttribute,
  type TAttributes, type TFlowProgress, type TProgressChange, type TTrackEvent, type TValidationIssue,
} from '@doorstep/schema';
import { Prisma } from '../generated/prisma/client.ts';
import { mergedProgressIds } from '../db/progress-sql.ts';
import { ValidationError } from '../errors.ts';
import type { TContentCompletion, TEnvironmentSnapshot, TFlowCompletion } from '../runtime/snapshot-store.ts';

export const MAX_EVENT_AGE_MS = 30 * 24 * 3600 * 1000;
export const MAX_EVENT_SKEW_MS = 5 * 60 * 1000;
/** Events the app sends about a flow's lifecycle; each names its flow (or lets the API infer it). */
const LIFECYCLE_EVENTS = new Set<string>(BUILT_IN_EVENTS);

export type TIngestResult = { accepted: number; duplicates: number; affectedUsers: string[] };

/** A request's events, checked against the snapshot they will be applied with, and when they arrived. */
export type TValidatedBatch = { snapshot: TEnvironmentSnapshot; events: readonly TTrackEvent[]; validatedAt: Date };

/**
 * Checks a batch against the environment's published content and fills in the flow keys the client
 * left out. A bad event rejects its whole batch before anything is written or queued.
 */
export function validateEvents(snapshot: TEnvironmentSnapshot, batch: readonly TTrackEvent[], now = new Date()): TValidatedBatch {
  const issues: TValidationIssue[] = [];
  const events = batch.map((event, index) => {
    const inferred = inferFlowKey(snapshot, event);
    if (typeof inferred === 'object') issues.push({ path: `events.${index}.flowKey`, message: inferred.problem });
    return typeof inferred === 'string' ? { ...event, flowKey: inferred } : event;
  });
  if (issues.length === 0) issues.push(...events.flatMap((event, index) => eventIssues(snapshot, event, index, now)));
  if (issues.length > 0) throw new ValidationError(issues);
  return { snapshot, events, validatedAt: now };
}

type TOwnedEvent = { event: TTrackEvent; validatedAt: Date };

/**
 * Stores the events of several validated batches in the caller's transaction (the client's id makes
 * retries idempotent) and applies the effects of the new ones on profiles, with a handful of
 * statements whatever the number of batches. Results are per batch, in order. When two batches carry
 * the same event id, the earlier one stores it and the later one counts it as a duplicate, as if they
 * had been committed one after the other.
 */
export async function storeEvents(tx: Prisma.TransactionClient, batches: readonly TValidatedBatch[]): Promise<TIngestResult[]> {
  const ownerOf = new Map<string, number>();
  const bySnapshot = new Map<TEnvironmentSnapshot, TOwnedEvent[]>();
  batches.forEach(({ snapshot, events, validatedAt }, index) => {
    for (const event of events) {
      const key = eventKey(snapshot.environmentId, event.id);
      if (ownerOf.has(key)) continue;
      ownerOf.set(key, index);
      let owned = bySnapshot.get(snapshot);
      if (!owned) bySnapshot.set(snapshot, owned = []);
      owned.push({ event, validatedAt });
    }
  });

  // Environments in id order, so that concurrent groups lock their profiles in one order.
  const snapshots = [...bySnapshot.keys()].sort((a, b) => (a.environmentId < b.environmentId ? -1 : a.environmentId > b.environmentId ? 1 : 0));
  const served = new Map<TEnvironmentSnapshot, Map<string, TServedVersion>>();
  const rows: TEventRow[] = [];
  for (const snapshot of snapshots) {
    const owned = bySnapshot.get(snapshot)!;
    const versions = await servedVersions(tx, snapshot, owned.map((o) => o.event));
    served.set(snapshot, versions);
    for (const { event, validatedAt } of owned) {
      const version = event.flowKey ? versions.get(servedKey(event.userId, event.flowKey)) : undefined;
      rows.push({
        environmentId: snapshot.environmentId,
        clientEventId: event.id,
        userId: event.userId,
        name: event.name,
        timestamp: event.timestamp ?? validatedAt,
        flowKey: event.flowKey ?? undefined,
        version: version?.eventVersion,
        variantKey: version?.variantKey ?? undefined,
        stepId: event.stepId ?? undefined,
        questionId: event.questionId ?? undefined,
        value: event.value,
        properties: event.properties ?? undefined,
      });
    }
  }
  const stored = await insertEvents(tx, rows);

  for (const snapshot of snapshots) {
    const fresh = bySnapshot.get(snapshot)!.map((o) => o.event).filter((event) => stored.has(eventKey(snapshot.environmentId, event.id)));
    await applyEffects(tx, snapshot, served.get(snapshot)!, fresh);
  }

  return batches.map(({ snapshot, events }, index) => {
    const affectedUsers = new Set<string>();
    let storedHere = 0;
    for (const event of events) {
      const key = eventKey(snapshot.environmentId, event.id);
      if (ownerOf.get(key) !== index || !stored.has(key)) continue;
      storedHere++;
      affectedUsers.add(event.userId);
    }
    return { accepted: events.length, duplicates: events.length - storedHere, affectedUsers: [...affectedUsers] };
  });
}

const eventKey = (environmentId: string, clientEventId: string) => `${environmentId}\u0000${clientEventId}`;

/** An event as sent to the database; fields left undefined are left out of the JSON and stored as NULL (properties as {}). */
type TEventRow = {
  environmentId: string; clientEventId: string; userId: string; name: string; timestamp: Date; flowKey?: string;
  version?: number; variantKey?: string; stepId?: string; questionId?: string; value?: unknown; properties?: unknown;
};

/**
 * One multi-row insert that skips ids already stored; returns the keys it stored. The rows travel as
 * one JSON document: the statement does not grow with the number of rows, and bind parameters cannot
 * run out. Client events go in key order, so two groups carrying the same ids wait for each other in
 * one order instead of deadlocking; derived events keep the order they were derived in, since their
 * ids name the user and only a transaction holding that user's profile lock writes them.
 */
async function insertEvents(tx: Prisma.TransactionClient, rows: readonly TEventRow[], { ordered = true } = {}): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const inserted = await tx.$queryRaw<Array<{ environmentId: string; clientEventId: string }>>`
    INSERT INTO "Event" ("id", "environmentId", "clientEventId", "userId", "name", "timestamp", "flowKey", "version", "variantKey", "stepId", "questionId", "value", "properties")
    SELECT gen_random_uuid(), r."environmentId", r."clientEventId", r."userId", r."name", r."timestamp", r."flowKey", r."version", r."variantKey", r."stepId", r."questionId", r."value", COALESCE(r."properties", '{}')
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(
      "environmentId" uuid, "clientEventId" text, "userId" text, "name" text, "timestamp" timestamp(3), "flowKey" text, "version" integer,
      "variantKey" text, "stepId" text, "questionId" text, "value" jsonb, "properties" jsonb)
    ${ordered ? Prisma.sql`ORDER BY r."environmentId", r."clientEventId" COLLATE "C"` : Prisma.empty}
    ON CONFLICT ("environmentId", "clientEventId") DO NOTHING
    RETURNING "environmentId"::text AS "environmentId", "clientEventId"`;
  return new Set(inserted.map((row) => eventKey(row.environmentId, row.clientEventId)));
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

/** One progress change one event makes in one flow. */
type TPlannedChange = { event: TTrackEvent; flowKey: string; change: TProgressChange; served: TServedVersion };

/**
 * The server's half of the runtime contract (README, "Event lifecycle"): lifecycle events move the
 * progress of the flow they name; any other event completes the steps and ticks the checklist items
 * whose completion event it is, in every published flow that has them; a started flow whose required
 * steps are all done is completed. Set-based, so that a group of many requests costs a handful of
 * statements: profiles are upserted in one, answers written in one, progress read in one and written
 * in one per set of completion rules, derived events inserted in one. Each user's events still take
 * effect in the order they were sent.
 */
async function applyEffects(
  tx: Prisma.TransactionClient, snapshot: TEnvironmentSnapshot, served: Map<string, TServedVersion>, events: readonly TTrackEvent[],
): Promise<void> {
  const changes: TPlannedChange[] = [];
  const answers: TTrackEvent[] = [];
  const users = new Set<string>();
  for (const event of events) {
    if (LIFECYCLE_EVENTS.has(event.name)) {
      // The same mapping as the studio preview's LocalRuntime: step_viewed changes no progress.
      const [change] = [...progressChanges(event, []).entries()];
      if (!change) continue;
      users.add(event.userId);
      if (event.name === 'question_answered') answers.push(event);
      changes.push({ event, flowKey: change[0], change: change[1], served: served.get(servedKey(event.userId, change[0]))! });
      continue;
    }
    const flowKeys = snapshot.completionEvents.get(event.name);
    if (!flowKeys) continue;
    users.add(event.userId);
    for (const flowKey of flowKeys) {
      const version = served.get(servedKey(event.userId, flowKey))!;
      const targets = version.rules.targets.get(event.name);
      if (!targets) continue;
      changes.push({
        event, flowKey, served: version,
        change: { started: false, stepIds: targets.stepIds, itemIds: targets.checklistItemIds, completed: false, dismissed: false },
      });
    }
  }
  if (users.size === 0) return;
  const profiles = await upsertProfiles(tx, snapshot, [...users]);
  await storeAnswers(tx, snapshot, profiles, answers);
  await changeProgress(tx, snapshot, profiles, changes);
}

type TLockedProfile = { id: string; answers: TAttributes };

/**
 * Creates or touches the users' profiles, locking their rows in user-id order ("C" collation): the
 * order every writer of a user's answers and progress takes them in (`mergeGuest` too), so concurrent
 * groups, on this API node or another, cannot deadlock. The lock also keeps other `track`
 * transactions off these users' progress until this one commits, so what is read below stays true.
 */
async function upsertProfiles(tx: Prisma.TransactionClient, snapshot: TEnvironmentSnapshot, userIds: string[]): Promise<Map<string, TLockedProfile>> {
  const rows = await tx.$queryRaw<Array<{ id: string; externalId: string; answers: TAttributes | null }>>`
    INSERT INTO "UserProfile" ("id", "environmentId", "externalId", "answers", "firstSeenAt", "updatedAt")
    SELECT gen_random_uuid(), ${snapshot.environmentId}::uuid, u, '{}'::jsonb, now(), now()
    FROM unnest(${userIds}::text[]) AS u ORDER BY u COLLATE "C"
    ON CONFLICT ("environmentId", "externalId") DO UPDATE SET "updatedAt" = now()
    RETURNING "id"::text AS "id", "externalId", "answers"`;
  return new Map(rows.map((row) => [row.externalId, { id: row.id, answers: row.answers ?? {} }]));
}

/** Each answer sets the attribute its question is bound to, in the order given; the rows are locked, so none is lost. */
async function storeAnswers(
  tx: Prisma.TransactionClient, snapshot: TEnvironmentSnapshot, profiles: Map<string, TLockedProfile>, answers: readonly TTrackEvent[],
): Promise<void> {
  if (answers.length === 0) return;
  const next = new Map<string, TAttributes>();
  for (const event of answers) {
    const question = snapshot.questions.get(event.flowKey!)!.get(event.questionId!)!;
    const profile = profiles.get(event.userId)!;
    next.set(profile.id, withAttribute(next.get(profile.id) ?? profile.answers, question.attribute, event.value));
  }
  const rows = [...next].map(([id, attributes]) => ({ id, answers: attributes }));
  await tx.$executeRaw`
    UPDATE "UserProfile" p SET "answers" = r."answers", "updatedAt" = now()
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r("id" uuid, "answers" jsonb)
    WHERE p."id" = r."id"`;
}

/**
 * When a dismissal starts its placement's cool-off: the event's time (an offline queue may send it
 * late), never later than now, so a client clock that runs ahead cannot silence a placement.
 */
function dismissalTime(event: TTrackEvent): Date {
  const now = Date.now();
  return new Date(Math.min(event.timestamp?.getTime() ?? now, now));
}

/** The merged change of one user's events in one flow, written as one row. */
type TProgressWrite = { profileId: string; flowId: string; change: TFlowProgress; dismissedAt: Date | null };

async function changeProgress(
  tx: Prisma.TransactionClient, snapshot: TEnvironmentSnapshot, profiles: Map<string, TLockedProfile>, planned: readonly TPlannedChange[],
): Promise<void> {
  if (planned.length === 0) return;
  const profileIds = [...new Set(planned.map((p) => profiles.get(p.event.userId)!.id))];
  const flowIds = [...new Set(planned.map((p) => snapshot.flowIds.get(p.flowKey)!))];
  const stored = await tx.$queryRaw<Array<TFlowProgress & { profileId: string; flowId: string }>>`
    SELECT "profileId"::text AS "profileId", "flowId"::text AS "flowId", "started", "completedStepIds", "checkedItemIds", "completed", "dismissed"
    FROM "FlowProgress" WHERE "profileId" = ANY(${profileIds}::uuid[]) AND "flowId" = ANY(${flowIds}::uuid[])`;
  const current = new Map<string, TFlowProgress>(stored.map(({ profileId, flowId, ...progress }) => [`${profileId}:${flowId}`, progress]));

  // Each event is replayed on the progress as it stands after the events before it, as the database
  // will merge them, to know what it derives; the events of one flow and user are then written as
  // one merged change, the same merge applied to the stored row in SQL.
  const writes = new Map<TContentCompletion, Map<string, TProgressWrite>>();
  const derived: TEventRow[] = [];
  for (const plan of planned) {
    const profileId = profiles.get(plan.event.userId)!.id;
    const flowId = snapshot.flowIds.get(plan.flowKey)!;
    const key = `${profileId}:${flowId}`;
    const { rules } = plan.served;
    const before = current.get(key) ?? null;
    const after = applyProgressChange(before ?? EMPTY_PROGRESS, plan.change, rules.required);
    current.set(key, after);
    derived.push(...derivedEvents(snapshot, plan, before, after.completed));

    let byKey = writes.get(rules);
    if (!byKey) writes.set(rules, byKey = new Map());
    const write = byKey.get(key);
    byKey.set(key, {
      profileId, flowId,
      change: applyProgressChange(write?.change ?? EMPTY_PROGRESS, plan.change, rules.required),
      dismissedAt: write?.dismissedAt ?? (plan.change.dismissed ? dismissalTime(plan.event) : null),
    });
  }
  for (const [rules, byKey] of writes) await writeProgress(tx, rules, [...byKey.values()]);
  await insertEvents(tx, derived, { ordered: false });
}

/**
 * One statement, so concurrent writers of a user's progress merge instead of overwriting each other;
 * the flow completes when it is started and its required steps are all done, in whichever order
 * those facts arrive. A finished flow keeps the version it was finished in.
 */
async function writeProgress(tx: Prisma.TransactionClient, rules: TContentCompletion, writes: readonly TProgressWrite[]): Promise<void> {
  const { required } = rules;
  const rows = writes.map(({ profileId, flowId, change, dismissedAt }) => ({ profileId, flowId, ...change, dismissedAt }));
  await tx.$executeRaw`
    INSERT INTO "FlowProgress" ("profileId", "flowId", "started", "completedStepIds", "checkedItemIds", "completed", "dismissed", "dismissedAt", "version", "updatedAt")
    SELECT r."profileId", r."flowId", r."started", r."completedStepIds", r."checkedItemIds", r."completed", r."dismissed", r."dismissedAt", ${rules.version}, now()
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(
      "profileId" uuid, "flowId" uuid, "started" boolean, "completedStepIds" text[], "checkedItemIds" text[], "completed" boolean, "dismissed" boolean, "dismissedAt" timestamp(3))
    ORDER BY r."profileId", r."flowId"
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
      "updatedAt" = now()`;
}

/**
 * What the server derived is recorded as the events an app would have sent: step_completed for a
 * step its completion event completed, flow_completed for a flow completed by its steps. Analytics,
 * funnels and experiment results read events, so derived completion counts like reported
 * completion. Their ids are deterministic, so each is stored once per user, step and flow.
 */
function derivedEvents(
  snapshot: TEnvironmentSnapshot, { event, flowKey, change, served }: TPlannedChange, before: TFlowProgress | null, completedAfter: boolean,
): TEventRow[] {
  // The version is part of the id: a user restarted into a new version completes its steps again.
  const derived = (name: string, stepId: string | null): TEventRow => ({
    environmentId: snapshot.environmentId,
    clientEventId: `${DERIVED_EVENT_ID_PREFIX}${name}:${flowKey}:${served.eventVersion}:${stepId ?? ''}:${event.userId}`,
    userId: event.userId,
    name,
    timestamp: event.timestamp ?? new Date(),
    flowKey,
    version: served.eventVersion,
    variantKey: served.variantKey ?? undefined,
    stepId: stepId ?? undefined,
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
  return events;
}
