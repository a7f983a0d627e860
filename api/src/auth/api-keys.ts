import { createHash, randomBytes } from 'node:crypto';

export type TApiKeyKind = 'public' | 'secret';
const PREFIX: Record<TApiKeyKind, string> = { public: 'dpk', secret: 'dsk' };

/**
 * Keys carry 256 random bits, so a fast hash is enough: there is nothing to brute-force, and
 * lookups by hash stay cheap on the hot path (passwords, next issue, get scrypt).
 */
export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function generateApiKey(kind: TApiKeyKind): { secret: string; prefix: string; secretHash: string } {
  const secret = `${PREFIX[kind]}_${randomBytes(32).toString('base64url')}`;
  return fromSecret(secret);
}

export function fromSecret(secret: string): { secret: string; prefix: string; secretHash: string } {
  return { secret, prefix: secret.slice(0, 10), secretHash: hashApiKey(secret) };
}

export function kindOfSecret(secret: string): TApiKeyKind | 'session' | null {
  if (secret.startsWith('dpk_')) return 'public';
  if (secret.startsWith('dsk_')) return 'secret';
  if (secret.startsWith('dss_')) return 'session';
  return null;
}
