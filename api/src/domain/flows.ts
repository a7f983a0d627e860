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

/** The columns an audience maps to: a segment reference or an inline condition, never both. */
export async function audienceColumns(db: TDb, workspaceId: string, audience: TAudience | undefined) {
  if (!audience) return {};
  if (audience.segmentKey) {
    const segment = await db.segment.findUnique({ where: { workspaceId_key: { workspaceId, key: audience.segmentKey } } });
    if (!segment) invalid('audience.segmentKey', `No segment "${audience.segmentKey}" in this workspace`);
    return { segmentId: segment.id, audienceCondition: Prisma.DbNull };
  }
  return { segmentId: null, audienceCondition: audience.condition ? (audience.condition as Prisma.InputJsonObject) : Prisma.DbNull };
}
