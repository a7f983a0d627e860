import type { PrismaClient } from '../generated/prisma/client.ts';
import { hashApiKey, kindOfSecret } from './api-keys.ts';
import type { TPrincipal } from './principal.ts';

const CACHE_TTL_MS = 10_000;
const MAX_CACHED = 10_000;

/**
 * Turns a bearer token into a principal. Results are cached briefly so the runtime path does not hit
 * the database per request; revocation clears the cache on every node through the change bus.
 */
export class KeyResolver {
  private cache = new Map<string, { principal: TPrincipal | null; expiresAt: number }>();

  constructor(private readonly prisma: PrismaClient) {}

  async resolve(authorization: string | null): Promise<TPrincipal | null> {
    const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token || token.length > 300 || !kindOfSecret(token)) return null;
    const secretHash = hashApiKey(token);
    const hit = this.cache.get(secretHash);
    if (hit && hit.expiresAt > Date.now()) return hit.principal;
    const principal = await this.load(secretHash);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(secretHash, { principal, expiresAt: Date.now() + CACHE_TTL_MS });
    return principal;
  }

  invalidate(): void {
    this.cache.clear();
  }

  private async load(secretHash: string): Promise<TPrincipal | null> {
    const key = await this.prisma.apiKey.findUnique({ where: { secretHash } });
    if (!key || key.revokedAt) return null;
    const actor = `key:${key.name}`;
    if (key.kind === 'public' && key.environmentId) {
      return { kind: 'public', keyId: key.id, workspaceId: key.workspaceId, environmentId: key.environmentId, actor };
    }
    if (key.kind === 'secret' && key.role) {
      return { kind: 'secret', keyId: key.id, workspaceId: key.workspaceId, role: key.role, actor };
    }
    return null;
  }
}
