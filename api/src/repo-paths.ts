import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The nearest folder above this module that holds `marker`. The API runs from its TypeScript
 * sources (tests, `pnpm sdl`) and from the bundle in api/dist (`pnpm start`); a path relative to
 * the module would differ between the two, the repository's layout does not.
 */
function findUp(marker: string): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, marker))) return dir;
    if (dirname(dir) === dir) throw new Error(`No ${marker} in any folder above ${start}`);
  }
}

export const REPO_ROOT = findUp('pnpm-workspace.yaml');
export const MIGRATIONS_DIR = join(REPO_ROOT, 'prisma', 'migrations');
