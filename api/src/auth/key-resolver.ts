import type { PrismaClient } from '../generated/prisma/client.ts';
import { hashApiKey, kindOfSecret } from './api-keys.ts';
import type { TPrincipal } from './principal.ts';

const CACHE_TTL_MS = 10_000;
const MAX_CACHED = 10_000;

/**
 * Turns a bearer token (API key or studio session) into a principal. Results are cached briefly so
 * the runtime path does not hit the database per request; revocation, sign-out and role changes
 * clear the cache on every node through the change bus.
 */
export class KeyResolver {
  private cache = new Map<string, { principal: TPrincipal | null; expiresAt: number }>();
  /** Bumped by invalidate(): a lookup that started before must not cache what it read. */
  private generation = 0;

  constructor(private readonly prisma: PrismaClient) {}

  async resolve(authorization: string | null): Promise<TPrincipal | null> {
    const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    const kind = token && token.length <= 300 ? kindOfSecret(token) : null;
    if (!token || !kind) return null;
    const tokenHash = hashApiKey(token);
    const hit = this.cache.get(tokenHash);
    if (hit && hit.expiresAt > Date.now()) return hit.principal;
    const generation = this.generation;
    const principal = kind === 'session' ? await this.loadSession(tokenHash) : await this.loadKey(tokenHash);
    if (generation === this.generation) {
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      this.cache.set(tokenHash, { principal, expiresAt: Date.now() + CACHE_TTL_MS });
    }
    return principal;
  }

  invalidate(): void {
    this.generation++;
    this.cache.clear();
  }

  private async loadKey(secretHash: string): Promise<TPrincipal | null> {
    const key = await this.prisma.apiKey.findUnique({ where: { secretHash }, include: { environment: { select: { identitySecret: true } } } });
    if (!key || key.revokedAt) return null;
    const actor = `key:${key.name}`;
    if (key.kind === 'public' && key.environmentId) {
      return {
        kind: 'public', credentialId: key.id, workspaceId: key.workspaceId, environmentId: key.environmentId, actor,
        allowedOrigins: key.allowedOrigins, identitySecret: key.environment?.identitySecret ?? null,
      };
    }
    if (key.kind === 'secret' && key.role) {
      return { kind: 'secret', credentialId: key.id, workspaceId: key.workspaceId, role: key.role, actor };
    }
    return null;
  }

  private async loadSession(tokenHash: string): Promise<TPrincipal | null> {
    const session = await this.prisma.session.findUnique({ where: { tokenHash }, include: { member: true } });
    if (!session || session.expiresAt <= new Date() || !session.member.passwordHash) return null;
    const { member } = session;
    return { kind: 'member', credentialId: member.id, workspaceId: member.workspaceId, role: member.role, actor: member.email, sessionHash: tokenHash };
  }
}
