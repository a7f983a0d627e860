import type { Prisma } from '../generated/prisma/client.ts';
import { ConflictError, invalid } from '../errors.ts';

type TTx = Prisma.TransactionClient;
type TActor = { workspaceId: string; actor: string };

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
  tx: TTx, who: TActor, flowId: string, environmentId: string, expectedRevision: number | null | undefined,
): Promise<{ versionNumber: number; moved: boolean }> {
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
  const moved = await movePointer(tx, who, flowId, environmentId, version.id, 'publish');
  return { versionNumber: version.number, moved };
}

export async function rollBack(tx: TTx, who: TActor, flowId: string, environmentId: string, versionNumber: number): Promise<{ from: number; to: number }> {
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
  await movePointer(tx, who, flowId, environmentId, target.id, 'rollback');
  return { from: release.version.number, to: versionNumber };
}

async function movePointer(
  tx: TTx, who: TActor, flowId: string, environmentId: string, toVersionId: string, kind: 'publish' | 'rollback',
): Promise<boolean> {
  const current = await tx.flowRelease.findUnique({ where: { flowId_environmentId: { flowId, environmentId } } });
  if (current?.versionId === toVersionId) return false;
  await tx.flowRelease.upsert({
    where: { flowId_environmentId: { flowId, environmentId } },
    create: { flowId, environmentId, versionId: toVersionId, updatedBy: who.actor },
    update: { versionId: toVersionId, updatedBy: who.actor },
  });
  await tx.pointerMove.create({
    data: { flowId, environmentId, kind, fromVersionId: current?.versionId ?? null, toVersionId, actor: who.actor },
  });
  return true;
}

/** Points an environment at an existing version (shipping an experiment's winner). */
export async function publishVersion(tx: TTx, who: TActor, flowId: string, environmentId: string, versionNumber: number): Promise<boolean> {
  await lockFlow(tx, flowId);
  const version = await tx.flowVersion.findUnique({ where: { flowId_number: { flowId, number: versionNumber } } });
  if (!version) invalid('version', `Version ${versionNumber} does not exist`);
  return movePointer(tx, who, flowId, environmentId, version.id, 'publish');
}
