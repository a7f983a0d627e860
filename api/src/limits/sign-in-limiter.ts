import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterPrisma, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
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
const GATE_HOLD_SECONDS = 30;

/**
 * Slows password guessing without locking the real user out. Tries count per account and client
 * address: past a few failures, each try from that address waits twice as long as the last (up to
 * 15 minutes), while the account's owner, elsewhere, signs in as usual. Tries also count per address
 * for every account, which bounds spraying one password over many accounts. A success clears the
 * account's count for that address.
 *
 * A try is counted before its password is checked, so that tries sent all at once are counted one by
 * one: past the free ones only one try per wait gets through (the gate's row is created by one upsert).
 * Counts live in the database through rate-limiter-flexible (RateLimiterPrisma), so every API node
 * shares them; should the database fail, each node counts in memory meanwhile (its insurance).
 */
export class SignInLimiter {
  private readonly pairTries: RateLimiterAbstract;
  private readonly pairGate: RateLimiterAbstract;
  private readonly addressTries: RateLimiterAbstract;

  constructor(prisma: PrismaClient, private readonly rules: TSignInRules = DEFAULT_SIGN_IN_RULES) {
    // The library prunes rows an hour past their expiry, every 5 minutes (an unref'd timer).
    const store = (keyPrefix: string, points: number, duration: number) => new RateLimiterPrisma({
      storeClient: prisma, tableName: 'rateLimiterFlexible', keyPrefix, points, duration,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration }),
    });
    this.pairTries = store('signin-pair', rules.freeAttempts, DAY_SECONDS);
    // A try past the gate holds it until its password is checked (failed() then sets the real wait,
    // succeeded() opens it): longer than any check takes, so that a burst cannot outlast it.
    this.pairGate = store('signin-wait', 1, GATE_HOLD_SECONDS);
    this.addressTries = store('signin-address', rules.perAddressPerHour, 3600);
  }

  /**
   * Counts a try before the password is checked: returns the try to report back with
   * `failed`/`succeeded`, or the seconds the caller must wait (a 429).
   */
  async attempt(email: string, address: string): Promise<{ waitSeconds: number } | { tries: number }> {
    const key = pairKey(email, address);
    const spraying = await refusal(this.addressTries.consume(address));
    if (spraying) return { waitSeconds: spraying };
    const { consumedPoints: tries } = await this.pairTries.penalty(key);
    if (tries > this.rules.freeAttempts) {
      const waiting = await refusal(this.pairGate.consume(key));
      if (waiting) return { waitSeconds: waiting };
    }
    return { tries };
  }

  /** The password was wrong: from the last free try on, the next try waits 1 s, then 2 s, 4 s ... */
  async failed(email: string, address: string, tries: number): Promise<void> {
    const over = tries - this.rules.freeAttempts;
    if (over >= 0) await this.pairGate.block(pairKey(email, address), Math.min(2 ** over, this.rules.maxDelaySeconds));
  }

  async succeeded(email: string, address: string): Promise<void> {
    const key = pairKey(email, address);
    await Promise.all([this.pairTries.delete(key), this.pairGate.delete(key), this.addressTries.reward(address)]);
  }
}

/** Seconds to wait when a consume is refused, 0 when it went through; a store failure is thrown. */
async function refusal(consumed: Promise<RateLimiterRes>): Promise<number> {
  try {
    await consumed;
    return 0;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    throw rejection;
  }
}

/** Emails are not stored in the limiter's table, only a digest. */
function pairKey(email: string, address: string): string {
  return `${createHash('sha256').update(email.toLowerCase()).digest('base64url').slice(0, 22)}|${address}`;
}
