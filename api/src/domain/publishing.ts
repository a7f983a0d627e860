import { Prisma } from '../generated/prisma/client.ts';
import { ConflictError, invalid } from '../errors.ts';

type TTx = Prisma.TransactionClient;
type TActor = { workspaceId: string; actor: string };
export type TInFlightPolicy = 'keep' | 'restart' | 'exit';
export type TPointerMoved = { moved: boolean; inFlightUsers: number };

/** Serialises publishes and rollbacks of one flow, so version numbers and pointer moves never race. */
async function lockFlow(tx: TTx, flowId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM "Flow" WHERE id = ${flowId}::uuid FOR UPDATE`;
}

function sameContent(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Freezes the draft into the next version (or reuses the latest version when the draft has not
 * changed since, so staging and production can serve the same version N) and points the environment at it.
 */
export async function publishDraft(
  tx: TTx, who: TActor, flowId: string, environmentId: string, expectedRevision: number | null | undefined, inFlight: TInFlightPolicy,
): Promise<{ versionNumber: number } & TPointerMoved> {
  await lockFlow(tx, flowId);
  const draft = await tx.flowDraft.findUnique({ where: { flowId } });
  if (!draft) invalid('flowKey', 'This flow has no draft to publish');
  if (expectedRevision != null && draft.revision !== expectedRevision) {
    throw new ConflictError(`The draft changed since revision ${expectedRevision}; review it again before publishing`, draft.revision);
  }
  const latest = await tx.flowVersion.findFirst({ where: { flowId }, orderBy: { number: 'desc' } });
  const version = latest && sameContent(latest.content, draft.content)
    ? latest
    : await tx.flowVersion.create({
        data: { flowId, number: (latest?.number ?? 0) + 1, content: draft.content, createdBy: who.actor },
      });
  return { versionNumber: version.number, ...(await movePointer(tx, who, flowId, environmentId, version, 'publish', inFlight)) };
}

export async function rollBack(
  tx: TTx, who: TActor, flowId: string, environmentId: string, versionNumber: number, inFlight: TInFlightPolicy,
): Promise<{ from: number; to: number; inFlightUsers: number }> {
  await lockFlow(tx, flowId);
  const release = await tx.flowRelease.findUnique({
    where: { flowId_environmentId: { flowId, environmentId } },
    include: { version: { select: { number: true } } },
  });
  if (!release) invalid('environmentKey', 'Nothing is published to this environment yet');
  const target = await tx.flowVersion.findUnique({ where: { flowId_number: { flowId, number: versionNumber } } });
  if (!target) invalid('version', `Version ${versionNumber} does not exist`);
  if (versionNumber >= release.version.number) {
    invalid('version', `Roll back to a version before ${release.version.number}, the one this environment serves`);
  }
  const { inFlightUsers } = await movePointer(tx, who, flowId, environmentId, target, 'rollback', inFlight);
  return { from: release.version.number, to: versionNumber, inFlightUsers };
}

/**
 * Users of this flow in this environment who started a version other than `versionNumber` (any
 * version, when null: a version nobody has started yet) and have not finished it, by version. Versions a running experiment serves are the experiment's: its users
 * are not in flight.
 */
export async function inFlightVersions(tx: TTx, flowId: string, environmentId: string, versionNumber: number | null): Promise<Map<number | null, number>> {
  const experimentVersions = await runningExperimentVersions(tx, flowId, environmentId);
  const rows = await tx.$queryRaw<Array<{ version: number | null; users: bigint }>>`
    SELECT p."version", COUNT(*) AS "users" FROM "FlowProgress" p JOIN "UserProfile" pr ON pr."id" = p."profileId"
    WHERE p."flowId" = ${flowId}::uuid AND pr."environmentId" = ${environmentId}::uuid
      AND p."started" AND NOT p."completed" AND NOT p."dismissed" AND NOT p."exited"
      AND (${versionNumber}::int IS NULL OR p."version" IS DISTINCT FROM ${versionNumber}::int)
      AND NOT COALESCE(p."version" = ANY(${experimentVersions}::int[]), false)
    GROUP BY p."version"`;
  return new Map(rows.map((r) => [r.version, Number(r.users)]));
}

async function runningExperimentVersions(tx: TTx, flowId: string, environmentId: string): Promise<number[]> {
  const experiment = await tx.experiment.findFirst({ where: { flowId, environmentId, status: 'running' }, select: { variants: true } });
  return experiment?.variants.map((v) => v.versionNumber) ?? [];
}

/**
 * Points the environment at a version and settles the users mid-flow in another one: `keep` lets
 * them finish the version they started (the release keeps serving it to them), `restart` starts them
 * over in the new version, `exit` ends the flow for them. The choice and the number of users it
 * applied to are recorded with the move.
 */
async function movePointer(
  tx: TTx, who: TActor, flowId: string, environmentId: string, to: { id: string; number: number }, kind: 'publish' | 'rollback', inFlight: TInFlightPolicy,
): Promise<TPointerMoved> {
  const current = await tx.flowRelease.findUnique({ where: { flowId_environmentId: { flowId, environmentId } } });
  if (current?.versionId === to.id) return { moved: false, inFlightUsers: 0 };
  const inFlightByVersion = current ? await inFlightVersions(tx, flowId, environmentId, to.number) : new Map<number | null, number>();
  const inFlightUsers = [...inFlightByVersion.values()].reduce((a, b) => a + b, 0);
  // Only versions someone is still going through are kept, so the snapshot holds no dead content.
  const keptVersions = inFlight === 'keep' ? [...inFlightByVersion.keys()].filter((v): v is number => v !== null).sort((a, b) => a - b) : [];
  if (inFlight !== 'keep' && inFlightUsers > 0) await settleInFlightUsers(tx, flowId, environmentId, to.number, inFlight);
  await tx.flowRelease.upsert({
    where: { flowId_environmentId: { flowId, environmentId } },
    create: { flowId, environmentId, versionId: to.id, updatedBy: who.actor, keptVersions },
    update: { versionId: to.id, updatedBy: who.actor, keptVersions },
  });
  await tx.pointerMove.create({
    data: { flowId, environmentId, kind, fromVersionId: current?.versionId ?? null, toVersionId: to.id, actor: who.actor, inFlight, inFlightUsers },
  });
  return { moved: true, inFlightUsers };
}

async function settleInFlightUsers(tx: TTx, flowId: string, environmentId: string, versionNumber: number, inFlight: 'restart' | 'exit'): Promise<void> {
  const experimentVersions = await runningExperimentVersions(tx, flowId, environmentId);
  const change = inFlight === 'restart'
    ? Prisma.sql`"started" = false, "completedStepIds" = '{}', "checkedItemIds" = '{}', "version" = NULL`
    : Prisma.sql`"exited" = true`;
  await tx.$executeRaw`
    UPDATE "FlowProgress" p SET ${change}, "updatedAt" = now()
    FROM "UserProfile" pr
    WHERE pr."id" = p."profileId" AND p."flowId" = ${flowId}::uuid AND pr."environmentId" = ${environmentId}::uuid
      AND p."started" AND NOT p."completed" AND NOT p."dismissed" AND NOT p."exited"
      AND p."version" IS DISTINCT FROM ${versionNumber}::int AND NOT COALESCE(p."version" = ANY(${experimentVersions}::int[]), false)`;
}

/** Points an environment at an existing version (shipping an experiment's winner). */
export async function publishVersion(
  tx: TTx, who: TActor, flowId: string, environmentId: string, versionNumber: number, inFlight: TInFlightPolicy,
): Promise<TPointerMoved> {
  await lockFlow(tx, flowId);
  const version = await tx.flowVersion.findUnique({ where: { flowId_number: { flowId, number: versionNumber } } });
  if (!version) invalid('version', `Version ${versionNumber} does not exist`);
  return movePointer(tx, who, flowId, environmentId, version, 'publish', inFlight);
}

/**
 * After an experiment stops, its variants' versions are no longer served by assignment: users mid-flow
 * in one of them keep it until they finish, as a publish with `keep` would let them.
 */
export async function keepInFlightUsers(tx: TTx, flowId: string, environmentId: string): Promise<void> {
  await lockFlow(tx, flowId);
  const release = await tx.flowRelease.findUnique({
    where: { flowId_environmentId: { flowId, environmentId } }, select: { version: { select: { number: true } } },
  });
  if (!release) return;
  const inFlight = await inFlightVersions(tx, flowId, environmentId, release.version.number);
  const keptVersions = [...inFlight.keys()].filter((v): v is number => v !== null).sort((a, b) => a - b);
  await tx.flowRelease.update({ where: { flowId_environmentId: { flowId, environmentId } }, data: { keptVersions } });
}
