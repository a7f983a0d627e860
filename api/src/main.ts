import { createApp } from './app.ts';
import { openDatabase } from './db/database.ts';
import { migrate } from './db/migrator.ts';
import { loadEnv } from './env.ts';
import { ensureSeedAdmin, seedIfEmpty } from './seed.ts';
import { listen } from './server.ts';

const env = loadEnv();
const db = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DOORSTEP_DATA_DIR });
const applied = await migrate(db);
if (applied.length > 0) console.log(`Applied migrations: ${applied.join(', ')}`);

const seeded = await seedIfEmpty(db.prisma, { secretKey: env.DOORSTEP_SEED_SECRET_KEY, publicKey: env.DOORSTEP_SEED_PUBLIC_KEY });
if (seeded) {
  console.log('Loaded the demo workspace "Lumen Analytics".');
  if (!env.DOORSTEP_SEED_SECRET_KEY || !env.DOORSTEP_SEED_PUBLIC_KEY) {
    console.log('API keys (shown once, store them now):');
    console.log(`  secret (admin):        ${seeded.secretKey}`);
    console.log(`  public (production):   ${seeded.publicKey}`);
    console.log(`  public (staging):      ${seeded.stagingPublicKey}`);
  }
}

if (env.DOORSTEP_SEED_ADMIN_EMAIL && env.DOORSTEP_SEED_ADMIN_PASSWORD) {
  if (await ensureSeedAdmin(db.prisma, env.DOORSTEP_SEED_ADMIN_EMAIL, env.DOORSTEP_SEED_ADMIN_PASSWORD)) {
    console.log(`Created the admin ${env.DOORSTEP_SEED_ADMIN_EMAIL}.`);
  }
}

const app = await createApp({
  db, production: env.NODE_ENV === 'production', snapshotMaxAgeMs: env.DOORSTEP_SNAPSHOT_MAX_AGE_MS,
  rateLimits: {
    runtime: { limit: env.DOORSTEP_RATE_LIMIT_RUNTIME, windowMs: 60_000 },
    anonymous: { limit: env.DOORSTEP_RATE_LIMIT_ANONYMOUS, windowMs: 60_000 },
    trustedProxies: env.DOORSTEP_TRUSTED_PROXIES,
  },
});
const server = await listen(app, env.DOORSTEP_API_PORT, env.DOORSTEP_API_HOST);
console.log(`Doorstep API on http://localhost:${env.DOORSTEP_API_PORT}/graphql (${db.driver === 'postgres' ? 'PostgreSQL' : `PGlite in ${env.DOORSTEP_DATA_DIR}`})`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: shutting down`);
  server.close();
  await app.close();
  await db.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
