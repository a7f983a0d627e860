import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isGuestId } from '@doorstep/schema';
import { ForbiddenError } from '../errors.ts';

/** A new identity-verification secret for an environment: 256 random bits, shown to the admin once. */
export function newIdentitySecret(): string {
  return `dis_${randomBytes(32).toString('base64url')}`;
}

/** What the app's backend computes and sends with a user id: hex HMAC-SHA256 of the id. */
export function userHash(secret: string, userId: string): string {
  return createHmac('sha256', secret).update(userId).digest('hex');
}

/** Whether `hash` signs `userId` with the environment's secret; constant time in the hash. */
export function isVerifiedUser(secret: string, userId: string, hash: string | null | undefined): boolean {
  if (!hash || !/^[0-9a-f]{64}$/i.test(hash)) return false;
  return timingSafeEqual(Buffer.from(userHash(secret, userId), 'hex'), Buffer.from(hash, 'hex'));
}

/**
 * Whether a runtime call may act as this user: always without identity verification; with it, a
 * guest id (made up in a browser, so nobody can sign it; it holds only what that browser did) or a
 * user id signed by the app's backend.
 */
export function mayActAs(secret: string | null, userId: string, hash: string | null | undefined): boolean {
  return !secret || isGuestId(userId) || isVerifiedUser(secret, userId, hash);
}

const UNVERIFIED = 'must be the HMAC-SHA256 of the user id, computed by your backend';

/** The refusal for a user whose id the app's backend did not sign (or signed with another secret). */
export function unverifiedUser(at = 'user.hash'): ForbiddenError {
  return new ForbiddenError(`Identity verification is on in this environment: ${at} ${UNVERIFIED}`);
}

/** The refusal of a batch with unsigned events, naming each, so a client can drop just those. */
export function unverifiedEvents(indexes: number[]): ForbiddenError {
  const issues = indexes.map((index) => ({ path: `events.${index}.userHash`, message: `userHash ${UNVERIFIED}` }));
  return new ForbiddenError(`Identity verification is on in this environment: ${issues.map((i) => i.path).join(', ')} ${UNVERIFIED}`, issues);
}
