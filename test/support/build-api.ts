import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

/** Vitest global setup: builds api/dist once, so process tests start exactly what `pnpm start` runs. */
export default function buildApi(): void {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  execFileSync(process.execPath, ['scripts/build-api.mjs'], { cwd: root, stdio: 'inherit' });
  // Workers inherit it: end-to-end files build the studio once per run (test/support/studio.ts).
  process.env.DOORSTEP_TEST_RUN_ID = randomUUID();
}
