import { createHash, randomBytes } from 'node:crypto';
import type { Prisma } from '../generated/prisma/client.ts';

export const SESSION_PREFIX = 'dss';

/**
 * How long studio sessions live. A session ends at the first of: its absolute end (set at sign-in,
 * kept through rotations, so an active session cannot outlive it), the idle limit since it was last
 * used, or the end of its grace once it was rotated. The studio asks for a rotation once a token is
 * older than `rotateAfterMs`. Members only, never the runtime path: apps use API keys.
 */
export type TSessionPolicy = {
  absoluteMs: number;
  idleMs: number;
  /** lastUsedAt is written at most this often per session, so the idle limit is exact to within it. */
  touchEveryMs: number;
  rotateAfterMs: number;
  /** How long a replaced token still works, for the studio's requests already under way with it. */
  rotationGraceMs: number;
};

export const SESSION_POLICY: Readonly<TSessionPolicy> = {
  absoluteMs: 7 * 24 * 3600_000,
  idleMs: 12 * 3600_000,
  touchEveryMs: 5 * 60_000,
  rotateAfterMs: 3600_000,
  // At least the key cache's lifetime: another node may still hold the replaced token for that long.
  rotationGraceMs: 60_000,
};

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Opens a session: the token goes to the studio's httpOnly cookie, only its hash is stored. A rotation
 * passes the absolute end of the session it replaces. The member's dead sessions are dropped on the way.
 */
export async function openSession(db: Prisma.TransactionClient, memberId: string, options: { now?: Date; expiresAt?: Date; policy?: TSessionPolicy } = {}) {
  const now = options.now ?? new Date();
  const policy = options.policy ?? SESSION_POLICY;
  const token = `${SESSION_PREFIX}_${randomBytes(32).toString('base64url')}`;
  const expiresAt = options.expiresAt ?? new Date(now.getTime() + policy.absoluteMs);
  await db.session.deleteMany({ where: { memberId, OR: [{ expiresAt: { lte: now } }, { lastUsedAt: { lte: new Date(now.getTime() - policy.idleMs) } }] } });
  await db.session.create({ data: { memberId, tokenHash: hashToken(token), expiresAt, lastUsedAt: now } });
  return { token, expiresAt };
}

/** One-time invitation secret, shown to the inviting admin and stored hashed. */
export function newInviteToken(): { token: string; tokenHash: string } {
  const token = `dsi_${randomBytes(24).toString('base64url')}`;
  return { token, tokenHash: hashToken(token) };
}

/** One-time password reset secret, shown to the issuing admin and stored hashed. */
export function newResetToken(): { token: string; tokenHash: string } {
  const token = `dsr_${randomBytes(24).toString('base64url')}`;
  return { token, tokenHash: hashToken(token) };
}
