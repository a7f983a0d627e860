import { DERIVED_EVENT_ID_PREFIX } from '@doorstep/schema';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { mergedProgressIds } from '../db/progress-sql.ts';
import { ConflictError } from '../errors.ts';

export type TGuestMergeResult = { merged: boolean; userId: string };

/**
 * Merges a guest into a user, once (README, "Guests who sign up"): the user's answers win and the
 * guest's fill the gaps; per flow, done steps and ticked items are united, flags OR-ed, and the
 * version kept is the user's if they had started the flow, else the guest's; exposures move unless
 * the user already has one for that experiment (so the variant the guest saw stays); first serves
 * keep the earliest; events are re-attributed. One transaction of set-based statements, whatever
 * the guest's history. The merge is recorded first: a concurrent call for the same guest waits on
 * that row, then finds it, so a guest is merged exactly once.
 */
export async function mergeGuest(prisma: PrismaClient, environmentId: string, guestId: string, userId: string): Promise<TGuestMergeResult> {
  return prisma.$transaction(async (tx) => {
    const recorded = await tx.$queryRaw<Array<{ userId: string }>>`
      INSERT INTO "GuestMerge" ("environmentId", "guestId", "userId") VALUES (${environmentId}::uuid, ${guestId}, ${userId})
      ON CONFLICT ("environmentId", "guestId") DO NOTHING RETURNING "userId"`;
    if (recorded.length === 0) {
      const earlier = await tx.guestMerge.findUniqueOrThrow({ where: { environmentId_guestId: { environmentId, guestId } }, select: { userId: true } });
      if (earlier.userId === userId) return { merged: false, userId };
      // The other user's id is theirs: the refusal does not name it.
      throw new ConflictError('This guest was already merged into another user');
    }

    // Both profile rows are locked, so answers tracked meanwhile (which lock the profile row) wait
    // instead of being overwritten, and in user-id order, the order `track` locks them in, so a
    // batch with events of both cannot deadlock with the merge.
    await tx.$executeRaw`
      INSERT INTO "UserProfile" ("id", "environmentId", "externalId", "answers", "firstSeenAt", "updatedAt")
      VALUES (gen_random_uuid(), ${environmentId}::uuid, ${userId}, '{}'::jsonb, now(), now())
      ON CONFLICT ("environmentId", "externalId") DO NOTHING`;
    const locked = await tx.$queryRaw<Array<{ id: string; externalId: string }>>`
      SELECT "id", "externalId" FROM "UserProfile"
      WHERE "environmentId" = ${environmentId}::uuid AND "externalId" IN (${userId}, ${guestId})
      ORDER BY "externalId" COLLATE "C" FOR UPDATE`;
    const user = locked.find((row) => row.externalId === userId)!;
    const guest = locked.find((row) => row.externalId === guestId);

    if (guest) {
      // jsonb `||` keeps the right side's value for a key both have: the user's.
      await tx.$executeRaw`
        UPDATE "UserProfile" u SET "answers" = g."answers" || u."answers", "firstSeenAt" = LEAST(u."firstSeenAt", g."firstSeenAt"), "updatedAt" = now()
        FROM "UserProfile" g WHERE u."id" = ${user.id}::uuid AND g."id" = ${guest.id}::uuid`;
      await tx.$executeRaw`
        INSERT INTO "FlowProgress" ("profileId", "flowId", "started", "completedStepIds", "checkedItemIds", "completed", "dismissed", "dismissedAt", "version", "exited", "updatedAt")
        SELECT ${user.id}::uuid, g."flowId", g."started", g."completedStepIds", g."checkedItemIds", g."completed", g."dismissed", g."dismissedAt", g."version", g."exited", now()
        FROM "FlowProgress" g WHERE g."profileId" = ${guest.id}::uuid
        ON CONFLICT ("profileId", "flowId") DO UPDATE SET
          "started" = "FlowProgress"."started" OR EXCLUDED."started",
          "completedStepIds" = ${mergedProgressIds('completedStepIds')},
          "checkedItemIds" = ${mergedProgressIds('checkedItemIds')},
          "completed" = "FlowProgress"."completed" OR EXCLUDED."completed",
          "dismissed" = "FlowProgress"."dismissed" OR EXCLUDED."dismissed",
          "dismissedAt" = LEAST("FlowProgress"."dismissedAt", EXCLUDED."dismissedAt"),
          "exited" = "FlowProgress"."exited" OR EXCLUDED."exited",
          "version" = CASE WHEN "FlowProgress"."started" THEN COALESCE("FlowProgress"."version", EXCLUDED."version")
            ELSE COALESCE(EXCLUDED."version", "FlowProgress"."version") END,
          "updatedAt" = now()`;
      // Its progress rows go with it (cascade).
      await tx.$executeRaw`DELETE FROM "UserProfile" WHERE "id" = ${guest.id}::uuid`;
    }

    await tx.$executeRaw`
      INSERT INTO "Exposure" ("experimentId", "userId", "variantKey", "segmentKeys", "exposedAt")
      SELECT e."experimentId", ${userId}, e."variantKey", e."segmentKeys", e."exposedAt"
      FROM "Exposure" e JOIN "Experiment" x ON x."id" = e."experimentId"
      WHERE x."environmentId" = ${environmentId}::uuid AND e."userId" = ${guestId}
      ON CONFLICT ("experimentId", "userId") DO NOTHING`;
    await tx.$executeRaw`
      DELETE FROM "Exposure" e USING "Experiment" x
      WHERE x."id" = e."experimentId" AND x."environmentId" = ${environmentId}::uuid AND e."userId" = ${guestId}`;

    await tx.$executeRaw`
      INSERT INTO "FlowServe" ("environmentId", "flowKey", "userId", "segmentKeys", "servedAt")
      SELECT "environmentId", "flowKey", ${userId}, "segmentKeys", "servedAt" FROM "FlowServe"
      WHERE "environmentId" = ${environmentId}::uuid AND "userId" = ${guestId}
      ON CONFLICT ("environmentId", "flowKey", "userId") DO UPDATE SET
        "segmentKeys" = CASE WHEN EXCLUDED."servedAt" < "FlowServe"."servedAt" THEN EXCLUDED."segmentKeys" ELSE "FlowServe"."segmentKeys" END,
        "servedAt" = LEAST("FlowServe"."servedAt", EXCLUDED."servedAt")`;
    await tx.$executeRaw`DELETE FROM "FlowServe" WHERE "environmentId" = ${environmentId}::uuid AND "userId" = ${guestId}`;

    // Derived events are one per user, step and flow, their ids ending in the user id: the guest's
    // take the user's id, and those the user already has are duplicates, dropped.
    const derived = `${DERIVED_EVENT_ID_PREFIX}%`;
    await tx.$executeRaw`
      UPDATE "Event" e SET "userId" = ${userId}, "clientEventId" = left(e."clientEventId", length(e."clientEventId") - length(${guestId})) || ${userId}
      WHERE e."environmentId" = ${environmentId}::uuid AND e."userId" = ${guestId} AND e."clientEventId" LIKE ${derived}
        AND NOT EXISTS (SELECT 1 FROM "Event" u WHERE u."environmentId" = e."environmentId"
          AND u."clientEventId" = left(e."clientEventId", length(e."clientEventId") - length(${guestId})) || ${userId})`;
    await tx.$executeRaw`
      DELETE FROM "Event" WHERE "environmentId" = ${environmentId}::uuid AND "userId" = ${guestId} AND "clientEventId" LIKE ${derived}`;
    await tx.$executeRaw`UPDATE "Event" SET "userId" = ${userId} WHERE "environmentId" = ${environmentId}::uuid AND "userId" = ${guestId}`;
    return { merged: true, userId };
  }, { timeout: 60_000, maxWait: 10_000 });
}
