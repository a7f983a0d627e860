import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PGlite instances are heavy; one worker per core keeps memory and wall time sane on 2 cores.
    maxWorkers: 2,
  },
});
