import type { PrismaClient } from '../generated/prisma/client.ts';
import { databaseErrorKind } from '../db/database-errors.ts';
import { hashApiKey, kindOfSecret } from './api-keys.ts';
import type { TPrincipal } from './principal.ts';
import { SESSION_POLICY, type TSessionPolicy } from './sessions.ts';

const CACHE_TTL_MS = 10_000;
/** How long past its expiry a known key still resolves while the database cannot be reached. */
export const STALE_WHEN_UNAVAILABLE_MS = 10 * 60_000;
type TCachedPrincipal = { principal: TPrincipal | null; expiresAt: number };

function remember(cache: Map<string, TCachedPrincipal>, tokenHash: string, entry: TCachedPrincipal, maxEntries: number): void {
  cache.delete(tokenHash);
  if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
  cache.set(tokenHash, entry);
}
const MAX_CACHED = 10_000;

/**
 * Turns a bearer token (API key or studio session) into a principal. Results are cached briefly so
 * the runtime path does not hit the database per request; revocation, sign-out and role changes
 * clear the cache on every node through the change bus.
 */
export class KeyResolver {
  // Least recently used first. Tokens that resolve to nothing have their own cache, so a flood of
  // made-up tokens evicts only other made-up tokens, never the keys apps are using.
  private readonly known = new Map<string, TCachedPrincipal>();
  private readonly unknown = new Map<string, TCachedPrincipal>();
  /** Bumped by invalidate(): a lookup that started before must not cache what it read. */
  private generation = 0;
  /** The session rules; a property so that tests can shorten them. */
  sessionPolicy: TSessionPolicy = { ...SESSION_POLICY };

  constructor(private readonly prisma: PrismaClient, private readonly maxEntries = MAX_CACHED, private readonly ttlMs = CACHE_TTL_MS) {}

  /**
   * The last bearer resolved, compared as a string before anything is hashed: one request is resolved
   * by the rate limits and again by the path that answers it, and an app's requests share one key.
   */
  private last: { authorization: string; entry: TCachedPrincipal; generation: number } | undefined;

  /** What resolve() would answer from memory alone: undefined when that takes the database. */
  peek(authorization: string | null): TPrincipal | null | undefined {
    const last = this.last;
    if (last && last.authorization === authorization && last.generation === this.generation && last.entry.expiresAt > Date.now()) return last.entry.principal;
    const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token || token.length > 300 || !kindOfSecret(token)) return null;
    const tokenHash = hashApiKey(token);
    const hit = this.known.get(tokenHash) ?? this.unknown.get(tokenHash);
    return hit && hit.expiresAt > Date.now() ? hit.principal : undefined;
  }

  async resolve(authorization: string | null): Promise<TPrincipal | null> {
    const last = this.last;
    if (last && last.authorization === authorization && last.generation === this.generation && last.entry.expiresAt > Date.now()) return last.entry.principal;
    const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    const kind = token && token.length <= 300 ? kindOfSecret(token) : null;
    if (!token || !kind) return null;
    const tokenHash = hashApiKey(token);
    const hit = this.known.get(tokenHash) ?? this.unknown.get(tokenHash);
    if (hit && hit.expiresAt > Date.now()) {
      if (hit.principal) {
        remember(this.known, tokenHash, hit, this.maxEntries);
        this.last = { authorization: authorization!, entry: hit, generation: this.generation };
      }
      return hit.principal;
    }
    const generation = this.generation;
    let principal: TPrincipal | null;
    let until = Date.now() + this.ttlMs;
    try {
      if (kind === 'session') {
        const session = await this.loadSession(tokenHash);
        principal = session?.principal ?? null;
        // A session is not cached past its own end (absolute, idle or the grace of a rotated token).
        if (session) until = Math.min(until, session.until);
      } else {
        principal = await this.loadKey(tokenHash);
      }
    } catch (error) {
      // While the database is unreachable, a key this node knew keeps working for a while: apps
      // keep getting their onboarding from memory. A revocation made meanwhile cannot be read anyway.
      if (hit?.principal && Date.now() - hit.expiresAt < STALE_WHEN_UNAVAILABLE_MS && databaseErrorKind(error) === 'transient') return hit.principal;
      throw error;
    }
    if (generation === this.generation) {
      // A token that stopped resolving (an expired session) must not be shadowed by its old entry.
      if (!principal) this.known.delete(tokenHash);
      remember(principal ? this.known : this.unknown, tokenHash, { principal, expiresAt: until }, this.maxEntries);
    }
    return principal;
  }

  /**
   * Every key is looked up again on its next use (changes may have been missed), but a known one is
   * kept as the fallback should the database fail again, with its stale window counted from now.
   */
  expireAll(): void {
    this.generation++;
    this.last = undefined;
    const now = Date.now();
    for (const [tokenHash, entry] of this.known) this.known.set(tokenHash, { principal: entry.principal, expiresAt: Math.min(entry.expiresAt, now) });
    this.unknown.clear();
  }

  invalidate(): void {
    this.generation++;
    this.last = undefined;
    this.known.clear();
    this.unknown.clear();
  }

  /** Drops one token on this node only, e.g. the one a rotation just replaced: other nodes hold it at most for the cache's lifetime. */
  forget(tokenHash: string): void {
    this.generation++;
    this.known.delete(tokenHash);
    this.unknown.delete(tokenHash);
  }

  private async loadKey(secretHash: string): Promise<TPrincipal | null> {
    const key = await this.prisma.apiKey.findUnique({ where: { secretHash }, include: { environment: { select: { identitySecret: true, trustedDocumentsOnly: true } } } });
    if (!key || key.revokedAt) return null;
    const actor = `key:${key.name}`;
    if (key.kind === 'public' && key.environmentId) {
      return {
        kind: 'public', credentialId: key.id, workspaceId: key.workspaceId, environmentId: key.environmentId, actor,
        allowedOrigins: key.allowedOrigins, identitySecret: key.environment?.identitySecret ?? null,
        trustedDocumentsOnly: key.environment?.trustedDocumentsOnly ?? false,
      };
    }
    if (key.kind === 'secret' && key.role) {
      return { kind: 'secret', credentialId: key.id, workspaceId: key.workspaceId, role: key.role, actor };
    }
    return null;
  }

  /**
   * A session and until when it may be cached. Its use is recorded at most every `touchEveryMs`, with
   * a conditional update so that nodes loading it at once write it once: sessions are the studio's
   * alone, so this write never lands on the runtime path, and the cache keeps it off most studio requests.
   */
  private async loadSession(tokenHash: string): Promise<{ principal: TPrincipal; until: number } | null> {
    const policy = this.sessionPolicy;
    const session = await this.prisma.session.findUnique({ where: { tokenHash }, include: { member: true } });
    const now = Date.now();
    if (!session || session.expiresAt.getTime() <= now || session.lastUsedAt.getTime() + policy.idleMs <= now || !session.member.passwordHash) return null;
    let lastUsedAt = session.lastUsedAt.getTime();
    if (now - lastUsedAt >= policy.touchEveryMs) {
      await this.prisma.session.updateMany({ where: { id: session.id, lastUsedAt: { lt: new Date(now - policy.touchEveryMs) } }, data: { lastUsedAt: new Date(now) } });
      lastUsedAt = now;
    }
    const { member } = session;
    return {
      principal: {
        kind: 'member', credentialId: member.id, workspaceId: member.workspaceId, role: member.role, actor: member.email,
        sessionHash: tokenHash, sessionCreatedAt: session.createdAt,
      },
      until: Math.min(session.expiresAt.getTime(), lastUsedAt + policy.idleMs),
    };
  }
}
