import { createHash, randomBytes } from 'node:crypto';
import type { Prisma } from '../generated/prisma/client.ts';

export const SESSION_PREFIX = 'dss';
export const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Opens a session: the token goes to the studio's httpOnly cookie, only its hash is stored. */
export async function openSession(db: Prisma.TransactionClient, memberId: string, now = new Date()) {
  const token = `${SESSION_PREFIX}_${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  await db.session.create({ data: { memberId, tokenHash: hashToken(token), expiresAt } });
  return { token, expiresAt };
}

/** One-time invitation secret, shown to the inviting admin and stored hashed. */
export function newInviteToken(): { token: string; tokenHash: string } {
  const token = `dsi_${randomBytes(24).toString('base64url')}`;
  return { token, tokenHash: hashToken(token) };
}
