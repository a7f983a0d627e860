import type { TAttributes, TTrackEvent, TValidationIssue } from '@doorstep/schema';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { ValidationError } from '../errors.ts';
import type { TEnvironmentSnapshot } from '../runtime/snapshot-store.ts';
import { answerProblem, withAttribute } from './answers.ts';

export const MAX_EVENT_AGE_MS = 30 * 24 * 3600 * 1000;
export const MAX_EVENT_SKEW_MS = 5 * 60 * 1000;
const PROGRESS_EVENTS = new Set(['step_completed', 'step_skipped', 'question_answered', 'flow_completed', 'flow_dismissed']);

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
    const created = await tx.event.createManyAndReturn({
      data: events.map((e) => ({
        environmentId,
        clientEventId: e.id,
        userId: e.userId,
        name: e.name,
        timestamp: e.timestamp ?? now,
        flowKey: e.flowKey ?? null,
        stepId: e.stepId ?? null,
        questionId: e.questionId ?? null,
        value: e.value,
        properties: e.properties ?? {},
      })),
      skipDuplicates: true,
      select: { clientEventId: true },
    });
    const fresh = new Set(created.map((c) => c.clientEventId));
    for (const event of events) {
      if (fresh.has(event.id) && PROGRESS_EVENTS.has(event.name)) await applyEffect(tx, snapshot, event);
    }
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
    .filter((flow) => (stepId ? flow.content.steps.some((s) => s.id === stepId) : snapshot.questions.get(flow.key)?.has(questionId!)))
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
  if (!PROGRESS_EVENTS.has(event.name) && !event.name.startsWith('flow_')) return issues;
  if (!event.flowKey) return issues;
  if (!snapshot.flowIds.has(event.flowKey)) {
    issues.push(at('flowKey', `No flow "${event.flowKey}" is published in this environment`));
    return issues;
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

async function applyEffect(tx: Prisma.TransactionClient, snapshot: TEnvironmentSnapshot, event: TTrackEvent): Promise<void> {
  const flowId = snapshot.flowIds.get(event.flowKey!)!;
  const [{ id: profileId }] = await tx.$queryRaw<{ id: string }[]>`
    INSERT INTO "UserProfile" ("id", "environmentId", "externalId", "answers", "firstSeenAt", "updatedAt")
    VALUES (gen_random_uuid(), ${snapshot.environmentId}::uuid, ${event.userId}, '{}'::jsonb, now(), now())
    ON CONFLICT ("environmentId", "externalId") DO UPDATE SET "updatedAt" = now()
    RETURNING "id"`;

  if (event.name === 'question_answered') {
    const question = snapshot.questions.get(event.flowKey!)!.get(event.questionId!)!;
    // Row lock: two answers for one user in parallel must both land.
    const [{ answers }] = await tx.$queryRaw<{ answers: TAttributes }[]>`
      SELECT "answers" FROM "UserProfile" WHERE "id" = ${profileId}::uuid FOR UPDATE`;
    const next = withAttribute(answers ?? {}, question.attribute, event.value);
    await tx.userProfile.update({ where: { id: profileId }, data: { answers: next } });
    return;
  }
  const stepId = event.name === 'step_completed' || event.name === 'step_skipped' ? event.stepId! : null;
  const completed = event.name === 'flow_completed';
  const dismissed = event.name === 'flow_dismissed';
  await tx.$executeRaw`
    INSERT INTO "FlowProgress" ("profileId", "flowId", "completedStepIds", "completed", "dismissed", "updatedAt")
    VALUES (${profileId}::uuid, ${flowId}::uuid, ${stepId === null ? [] : [stepId]}::text[], ${completed}, ${dismissed}, now())
    ON CONFLICT ("profileId", "flowId") DO UPDATE SET
      "completedStepIds" = CASE
        WHEN ${stepId}::text IS NULL OR ${stepId}::text = ANY("FlowProgress"."completedStepIds") THEN "FlowProgress"."completedStepIds"
        ELSE array_append("FlowProgress"."completedStepIds", ${stepId}::text) END,
      "completed" = "FlowProgress"."completed" OR ${completed},
      "dismissed" = "FlowProgress"."dismissed" OR ${dismissed},
      "updatedAt" = now()`;
}
