// Prisma's CLI insists on a schema-engine binary it cannot download here; `generate` never runs
// it, so any existing file satisfies the check (see "Migrations" in the README).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { delimiter, join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const apiBin = join(root, 'api/node_modules/.bin');
execFileSync(join(apiBin, 'prisma'), ['generate', '--config', 'prisma/prisma.config.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    PATH: `${apiBin}${delimiter}${process.env.PATH ?? ''}`, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
});
