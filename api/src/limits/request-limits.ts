import type { IncomingMessage } from 'node:http';
import type { KeyResolver } from '../auth/key-resolver.ts';
import type { TPrincipal } from '../auth/principal.ts';
import type { TDatabase } from '../db/database.ts';
import { addressBucket, clientAddress, TrustedProxies } from './client-address.ts';
import { RateLimitSync, WindowLimiter, type TWindowLimit } from './window-limiter.ts';

export type TRateLimits = {
  /** Per public key and client address: the runtime (GraphQL, OFREP, event streams). */
  runtime: TWindowLimit;
  /** Per client address, for calls with no valid key or session. */
  anonymous: TWindowLimit;
  /** Comma-separated addresses or ranges whose X-Forwarded-For is believed (see TrustedProxies). */
  trustedProxies?: string;
};

export const DEFAULT_RATE_LIMITS: TRateLimits = {
  runtime: { limit: 6_000, windowMs: 60_000 },
  anonymous: { limit: 600, windowMs: 60_000 },
};

export type TRefusal = { retryAfterSeconds: number };

/**
 * Admission of a request before anything else runs: a public key's traffic per key and address (a
 * client app's users behind one address share a generous allowance), anonymous calls per address.
 * Secret keys and studio sessions are not limited here: they are the customer's own servers and
 * members; sign-in attempts have their own limiter.
 */
export class RequestLimits {
  readonly proxies: TrustedProxies;
  private readonly runtime: WindowLimiter;
  private readonly anonymous: WindowLimiter;
  private readonly sync: RateLimitSync | undefined;
  private readonly off: boolean;

  constructor(private readonly keys: KeyResolver, db: TDatabase, rules: TRateLimits) {
    this.proxies = new TrustedProxies(rules.trustedProxies);
    this.runtime = new WindowLimiter('runtime', rules.runtime);
    this.anonymous = new WindowLimiter('anonymous', rules.anonymous);
    this.off = rules.runtime.limit <= 0 && rules.anonymous.limit <= 0;
    // PGlite serves one process, whose memory is the whole truth.
    if (db.driver === 'postgres') {
      this.sync = new RateLimitSync(db, [this.runtime, this.anonymous]);
      this.sync.start();
    }
  }

  /** Null to go on, or how long the caller must wait. Never throws: a failure to tell admits. */
  async admit(req: IncomingMessage): Promise<TRefusal | null> {
    if (this.off) return null;
    const address = addressBucket(clientAddress(req, this.proxies));
    let principal: TPrincipal | null | undefined = null;
    if (req.headers.authorization) {
      principal = this.keys.peek(req.headers.authorization);
      if (principal === undefined) {
        // Not known here yet: counted as anonymous before the database is asked, so that made-up
        // tokens cannot each send a lookup to the database past the anonymous limit.
        const wait = this.anonymous.take(address);
        if (wait > 0) return { retryAfterSeconds: wait };
        try {
          principal = await this.keys.resolve(req.headers.authorization);
        } catch {
          // The database does not answer: the request itself will be answered 503 or from memory.
          return null;
        }
        if (!principal) return null;
      }
      if (principal && principal.kind !== 'public') return null;
    }
    const retryAfterSeconds = principal ? this.runtime.take(`${principal.credentialId}|${address}`) : this.anonymous.take(address);
    return retryAfterSeconds > 0 ? { retryAfterSeconds } : null;
  }

  /** Shares what was counted now (tests; the timer does it every second). */
  share(): Promise<void> {
    return this.sync?.exchange() ?? Promise.resolve();
  }

  stop(): Promise<void> {
    return this.sync?.stop() ?? Promise.resolve();
  }
}
