import { join } from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from './repo-paths.ts';
import { TrustedProxies } from './limits/client-address.ts';

const ZKeyFormat = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}_[A-Za-z0-9_-]{20,200}$`), `Must look like ${prefix}_ followed by at least 20 URL-safe characters`);

export const ZEnv = z.object({
  /** Unset means production: GraphiQL, introspection and field suggestions are for those who ask for development. */
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  DATABASE_URL: z.string().url().optional(),
  DOORSTEP_DATA_DIR: z.string().min(1).default(join(REPO_ROOT, '.doorstep')),
  DOORSTEP_API_PORT: z.coerce.number().int().min(1).max(65535).default(4000),
  DOORSTEP_API_HOST: z.string().default('0.0.0.0'),
  DOORSTEP_SEED_SECRET_KEY: ZKeyFormat('dsk').optional(),
  DOORSTEP_SEED_PUBLIC_KEY: ZKeyFormat('dpk').optional(),
  DOORSTEP_SEED_ADMIN_EMAIL: z.string().email().optional(),
  DOORSTEP_SEED_ADMIN_PASSWORD: z.string().min(10, 'Use at least 10 characters').max(200).optional(),
  /** Fallback when a LISTEN/NOTIFY message is lost: snapshots older than this are rebuilt. */
  DOORSTEP_SNAPSHOT_MAX_AGE_MS: z.coerce.number().int().min(100).default(30_000),
  /** Requests per minute per public key and client address (onboarding, track, OFREP, event streams); 0 turns it off. */
  DOORSTEP_RATE_LIMIT_RUNTIME: z.coerce.number().int().min(0).default(6_000),
  /** Requests per minute per client address without a valid key or session; 0 turns it off. */
  DOORSTEP_RATE_LIMIT_ANONYMOUS: z.coerce.number().int().min(0).default(600),
  /** Addresses or CIDR ranges whose X-Forwarded-For names the client (comma-separated, or `none`). */
  DOORSTEP_TRUSTED_PROXIES: z.string().default('127.0.0.0/8,::1').refine(isProxyList, 'Use comma-separated IP addresses or CIDR ranges, or none'),
});
function isProxyList(spec: string): boolean {
  try {
    return Boolean(new TrustedProxies(spec));
  } catch {
    return false;
  }
}

export type TEnv = z.output<typeof ZEnv>;

const ZEnvWithPairs = ZEnv.refine((env) => !env.DOORSTEP_SEED_ADMIN_EMAIL === !env.DOORSTEP_SEED_ADMIN_PASSWORD, {
  message: 'Set both DOORSTEP_SEED_ADMIN_EMAIL and DOORSTEP_SEED_ADMIN_PASSWORD, or neither',
  path: ['DOORSTEP_SEED_ADMIN_PASSWORD'],
});

/** Reads the environment once, at start-up; nothing else reads process.env. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): TEnv {
  const parsed = ZEnvWithPairs.safeParse(Object.fromEntries(Object.entries(source).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid environment:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
