import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterPrisma, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { PrismaClient } from '../generated/prisma/client.ts';

export type TSignInRules = {
  /** Wrong passwords for one account from one address before each further try has to wait. */
  freeAttempts: number;
  /** The longest wait between tries of one account from one address, in seconds. */
  maxDelaySeconds: number;
  /** Wrong passwords from one address, for any account, per hour (password spraying). */
  perAddressPerHour: number;
};

export const DEFAULT_SIGN_IN_RULES: TSignInRules = { freeAttempts: 5, maxDelaySeconds: 900, perAddressPerHour: 100 };

const DAY_SECONDS = 24 * 3600;

/**
 * Slows password guessing without locking the real user out. Failures count per account and client
 * address: past a few, each try from that address waits twice as long as the last (up to 15
 * minutes), while the account's owner, elsewhere, signs in as usual. Failures also count per
 * address for every account, which bounds spraying one password over many accounts. A success
 * clears the account's count for that address.
 *
 * Counts live in the database through rate-limiter-flexible (RateLimiterPrisma), so every API node
 * shares them; should the database fail, each node counts in memory meanwhile (its insurance).
 */
export class SignInLimiter {
  private readonly pairFailures: RateLimiterAbstract;
  private readonly pairWaits: RateLimiterAbstract;
  private readonly addressFailures: RateLimiterAbstract;

  constructor(prisma: PrismaClient, private readonly rules: TSignInRules = DEFAULT_SIGN_IN_RULES) {
    const store = (keyPrefix: string, points: number, duration: number) => new RateLimiterPrisma({
      storeClient: prisma, tableName: 'rateLimiterFlexible', keyPrefix, points, duration, clearExpiredByTimeout: false,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration }),
    });
    this.pairFailures = store('signin-pair', rules.freeAttempts, DAY_SECONDS);
    this.pairWaits = store('signin-wait', 1, rules.maxDelaySeconds);
    this.addressFailures = store('signin-address', rules.perAddressPerHour, 3600);
  }

  /** Seconds the caller must wait before this try, or 0. */
  async waitBefore(email: string, address: string): Promise<number> {
    const [wait, spraying] = await Promise.all([this.pairWaits.get(pairKey(email, address)), this.addressFailures.get(address)]);
    const seconds = (res: typeof wait, limit: number) => (res && res.consumedPoints > limit ? Math.ceil(res.msBeforeNext / 1000) : 0);
    return Math.max(seconds(wait, 1), spraying && spraying.consumedPoints >= this.rules.perAddressPerHour ? Math.ceil(spraying.msBeforeNext / 1000) : 0);
  }

  async failed(email: string, address: string): Promise<void> {
    const key = pairKey(email, address);
    const [failures] = await Promise.all([this.pairFailures.penalty(key), this.addressFailures.penalty(address)]);
    const over = failures.consumedPoints - this.rules.freeAttempts;
    if (over >= 0) await this.pairWaits.block(key, Math.min(2 ** over, this.rules.maxDelaySeconds));
  }

  async succeeded(email: string, address: string): Promise<void> {
    const key = pairKey(email, address);
    await Promise.all([this.pairFailures.delete(key), this.pairWaits.delete(key)]);
  }
}

/** Emails are not stored in the limiter's table, only a digest. */
function pairKey(email: string, address: string): string {
  return `${createHash('sha256').update(email.toLowerCase()).digest('base64url').slice(0, 22)}|${address}`;
}
