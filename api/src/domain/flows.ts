import type { TAudience } from '@doorstep/schema';
import { Prisma } from '../generated/prisma/client.ts';
import { NotFoundError, invalid } from '../errors.ts';

type TDb = Prisma.TransactionClient;

export async function findFlowOrThrow(db: TDb, workspaceId: string, key: string) {
  const flow = await db.flow.findUnique({ where: { workspaceId_key: { workspaceId, key } } });
  if (!flow) throw new NotFoundError('flow', key);
  return flow;
}

export async function findEnvironmentOrThrow(db: TDb, workspaceId: string, key: string) {
  const environment = await db.environment.findUnique({ where: { workspaceId_key: { workspaceId, key } } });
  if (!environment) throw new NotFoundError('environment', key);
  return environment;
}

/**
 * The columns an audience maps to: a segment reference or an inline condition, never both. The
 * segment is read under a key-share lock, which a concurrent deleteSegment's FOR UPDATE waits for:
 * either the delete commits first and the segment is not found here, or this commits first and the
 * delete sees the flow that targets it. Without it, whichever came second failed on the foreign key.
 */
export async function audienceColumns(db: TDb, workspaceId: string, audience: TAudience | undefined) {
  if (!audience) return {};
  if (audience.segmentKey) {
    const [segment] = await db.$queryRaw<Array<{ id: string }>>`
      SELECT id FROM "Segment" WHERE "workspaceId" = ${workspaceId}::uuid AND key = ${audience.segmentKey} FOR KEY SHARE`;
    if (!segment) invalid('audience.segmentKey', `No segment "${audience.segmentKey}" in this workspace`);
    return { segmentId: segment.id, audienceCondition: Prisma.DbNull };
  }
  return { segmentId: null, audienceCondition: audience.condition ? (audience.condition as Prisma.InputJsonObject) : Prisma.DbNull };
}
