import type { Prisma } from './generated/prisma/client.ts';

export type TAuditRecord = {
  workspaceId: string;
  actor: string;
  action: string;
  targetType: string;
  targetId?: string | null;
  data?: Prisma.InputJsonValue;
};

type TTransaction = Prisma.TransactionClient;

/** Written in the same transaction as the change it describes, so the log never disagrees with the data. */
export async function recordAudit(tx: TTransaction, entry: TAuditRecord): Promise<void> {
  await tx.auditEntry.create({ data: { ...entry, data: entry.data ?? {} } });
}
