import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const requireFromApi = createRequire(new URL('./api/package.json', import.meta.url));

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds. Node loads the CJS one for yoga; Vite would
    // give our sources the ESM one, and two graphql instances break `instanceof GraphQLError`.
    alias: [{ find: /^graphql$/, replacement: requireFromApi.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Process-level tests run the API as production does: bundled to JavaScript.
    globalSetup: ['test/support/build-api.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PGlite instances are heavy; one worker per core keeps memory and wall time sane on 2 cores.
    maxWorkers: 2,
  },
});
