import type { TManagementPrincipal } from '../auth/principal.ts';
import type { TContext } from '../context.ts';
import { Prisma, type PrismaClient } from '../generated/prisma/client.ts';
import type { TChange } from '../runtime/change-bus.ts';

type TTx = Prisma.TransactionClient;

/** What an audit entry says; the workspace and the actor come from the caller. */
export type TAuditFact = { action: string; targetType: string; targetId: string | null; data?: PrismaJson.AuditData };

export type TWriteOutcome<V> = {
  value: V;
  /** One entry per change made; none when the write turned out to change nothing. */
  audit: TAuditFact | TAuditFact[] | null;
};

export type TAuditedWrite<V> = {
  /** The one who acts, in the workspace they act on; known only inside the transaction for first-admin setup. */
  change: (tx: TTx) => Promise<TWriteOutcome<V> & { by: { workspaceId: string; actor: string } }>;
  /** Which caches every API process must drop once the change has committed. */
  notify?: TChange;
  /** The typed error a unique constraint's violation means here (a duplicate key, an email taken). */
  onDuplicate?: () => Error;
  /** How long the transaction may run; Prisma's default of 5 s suits one edit, not an import. */
  timeoutMs?: number;
};

/**
 * The one path of every write that changes state: the change and its audit entries commit in one
 * transaction (the log never disagrees with the data), a unique violation becomes a typed error
 * instead of an unexpected one, and only then are other processes told.
 */
export async function auditedWrite<V>(ctx: TContext, write: TAuditedWrite<V>): Promise<V> {
  const value = await auditedTransaction(ctx.prisma, write, { timeoutMs: write.timeoutMs });
  if (write.notify) await ctx.services.bus.publish(write.notify);
  return value;
}

/** The transaction of `auditedWrite`, for writes made before the API serves (seeding). */
export async function auditedTransaction<V>(
  prisma: PrismaClient, write: Pick<TAuditedWrite<V>, 'change' | 'onDuplicate'>, options: { timeoutMs?: number } = {},
): Promise<V> {
  try {
    return await prisma.$transaction(async (tx) => {
      const outcome = await write.change(tx);
      const facts = outcome.audit === null ? [] : Array.isArray(outcome.audit) ? outcome.audit : [outcome.audit];
      if (facts.length > 0) {
        await tx.auditEntry.createMany({ data: facts.map((fact) => ({ ...outcome.by, ...fact, data: fact.data ?? {} })) });
      }
      return outcome.value;
    }, options.timeoutMs ? { timeout: options.timeoutMs } : undefined);
  } catch (error) {
    if (write.onDuplicate && isUniqueViolation(error)) throw write.onDuplicate();
    throw error;
  }
}

/** A management write: by a secret key or a member, in their workspace. */
export function managementWrite<V>(
  ctx: TContext & { principal: TManagementPrincipal },
  write: Omit<TAuditedWrite<V>, 'change'> & { change: (tx: TTx, principal: TManagementPrincipal) => Promise<TWriteOutcome<V>> },
): Promise<V> {
  const principal = ctx.principal;
  const by = { workspaceId: principal.workspaceId, actor: principal.actor };
  return auditedWrite(ctx, { ...write, change: async (tx) => ({ ...(await write.change(tx, principal)), by }) });
}

export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}
