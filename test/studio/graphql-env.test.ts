import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/process.ts';

const requireFromStudio = createRequire(join(REPO_ROOT, 'studio/package.json'));
const CLI = join(dirname(requireFromStudio.resolve('gql.tada/package.json')), 'bin/cli.js');
const COMMITTED = join(REPO_ROOT, 'studio/src/lib/graphql-env.d.ts');

describe('studio GraphQL types', () => {
  // The studio's documents are type-checked against this file, not against the SDL itself: a stale
  // copy would let a query the API no longer answers pass svelte-check.
  it('should match api/schema.graphql (run `pnpm gql` after `pnpm sdl`)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'doorstep-gql-'));
    try {
      const fresh = join(dir, 'graphql-env.d.ts');
      execFileSync(process.execPath, [CLI, 'generate', 'output', '--tsconfig', join(REPO_ROOT, 'studio/tsconfig.json'), '--output', fresh], { stdio: 'pipe' });
      expect(readFileSync(COMMITTED, 'utf8')).toBe(readFileSync(fresh, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
