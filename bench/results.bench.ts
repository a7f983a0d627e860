/**
 * Experiment results over one million events on PostgreSQL. The baseline, measured in the same
 * run on the same data, is a plain aggregate that reads every event of the environment once: the
 * floor any results query must pay, so the ratio shows the cost of the joins and percentiles.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../api/src/db/database.ts';
import { migrate } from '../api/src/db/migrator.ts';
import { experimentResults } from '../api/src/domain/experiment-results.ts';
import { seedDemo } from '../api/src/seed.ts';

const ADMIN_URL = process.env.DOORSTEP_BENCH_POSTGRES_URL ?? 'postgresql://root@127.0.0.1:5432/postgres';
const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const RUNS = 5;

const name = `doorstep_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`CREATE DATABASE "${name}"`);
const url = new URL(ADMIN_URL);
url.pathname = `/${name}`;
const db = await openDatabase({ databaseUrl: url.toString() });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
async function time(run: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

try {
  await migrate(db);
  const ws = await seedDemo(db.prisma);
  const prisma = db.prisma;
  const flow = await prisma.flow.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, key: 'self-serve' } });
  const env = await prisma.environment.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, key: 'production' } });
  const variants = [{ key: 'control', versionNumber: 1, weight: 0.5 }, { key: 'short', versionNumber: 1, weight: 0.5 }];
  const experiment = await prisma.experiment.create({ data: { workspaceId: ws.workspaceId, flowId: flow.id, environmentId: env.id, key: 'bench', name: 'Bench', status: 'running', variants, seed: 'bench', createdBy: 'bench' } });

  const loadStarted = performance.now();
  await db.withSession(async (s) => {
    await s.query(
      `INSERT INTO "Exposure" ("experimentId", "userId", "variantKey", "segmentKeys", "exposedAt")
       SELECT $1::uuid, 'u' || g, CASE WHEN g % 2 = 0 THEN 'control' ELSE 'short' END, CASE WHEN g % 3 = 0 THEN ARRAY['big'] ELSE ARRAY[]::text[] END,
              now() - interval '10 days' + (g % 86400) * interval '1 second'
       FROM generate_series(1, $2::int) g`, [experiment.id, USERS]);
    // A mix like a real app's: step views and completions, other product events, and activations for ~25% of users.
    await s.query(
      `INSERT INTO "Event" ("id", "environmentId", "clientEventId", "userId", "name", "timestamp", "flowKey", "stepId", "properties")
       SELECT gen_random_uuid(), $1::uuid, 'e' || g, 'u' || (1 + (g::bigint * 7919) % $2::int),
              CASE WHEN g % 40 < 2 THEN 'dashboard_created' WHEN g % 3 = 0 THEN 'step_viewed' WHEN g % 3 = 1 THEN 'step_completed' ELSE 'page_viewed' END,
              now() - interval '9 days' + (g % 700000) * interval '1 second', 'self-serve',
              (ARRAY['about-you','install-snippet','first-dashboard','invite-team'])[1 + g % 4], '{}'::jsonb
       FROM generate_series(1, $3::int) g`, [env.id, USERS, EVENTS]);
    await s.query('ANALYZE');
  });
  const loadMs = performance.now() - loadStarted;

  const input = { id: experiment.id, environmentId: env.id, variants, flowKey: 'self-serve', activationEvent: 'dashboard_created', activationWindowHours: null };
  await experimentResults(prisma, input);
  const baselineMs = await time(() => db.withSession((s) => s.query(`SELECT "name", count(DISTINCT "userId") FROM "Event" WHERE "environmentId" = $1::uuid GROUP BY "name"`, [env.id])));
  const resultsMs = await time(() => experimentResults(prisma, input));
  const results = await experimentResults(prisma, input);

  console.log(`\nExperiment results on PostgreSQL: ${EVENTS.toLocaleString()} events, ${USERS.toLocaleString()} exposed users (loaded in ${(loadMs / 1000).toFixed(1)} s), median of ${RUNS}`);
  console.log(`baseline: one aggregate over every event    ${baselineMs.toFixed(0).padStart(7)} ms   1.00x`);
  console.log(`experiment results (all queries)            ${resultsMs.toFixed(0).padStart(7)} ms   ${(resultsMs / baselineMs).toFixed(2)}x`);
  console.log(`sanity: ${results.variants.map((v) => `${v.key} ${v.activated}/${v.exposed}`).join(', ')}; ${results.funnel.length} funnel rows`);
} finally {
  await db.close();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
}
