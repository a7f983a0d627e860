// The integration suite runs against the machine's PostgreSQL as well as PGlite. Start it when it
// is installed but down; fail with a clear message when it cannot be reached at all.
import { execSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import pg from 'pg';

const url = process.env.DOORSTEP_TEST_POSTGRES_URL ?? 'postgresql://root@127.0.0.1:5432/postgres';

async function reachable() {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

if (!(await reachable())) {
  try {
    const version = readdirSync('/etc/postgresql')[0];
    console.log(`PostgreSQL is down; starting cluster ${version}/main`);
    execSync(`pg_ctlcluster --skip-systemctl-redirect ${version} main start`, { stdio: 'inherit' });
  } catch (error) {
    console.error(`Could not start PostgreSQL: ${error.message}`);
  }
  for (let attempt = 0; attempt < 20 && !(await reachable()); attempt++) await new Promise((r) => setTimeout(r, 500));
  if (!(await reachable())) {
    console.error(`The tests need PostgreSQL at ${url} (set DOORSTEP_TEST_POSTGRES_URL to use another server).`);
    process.exit(1);
  }
}
