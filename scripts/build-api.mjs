// Builds the API for production: one ES module, api/dist/main.js, run by plain `node`.
// Workspace sources (@doorstep/schema, seeds) are TypeScript and are bundled in; the API's npm
// dependencies stay external and load from api/node_modules as usual. The file is written aside
// and renamed into place, so a process starting meanwhile never reads half a bundle.
import { build } from 'esbuild';
import { readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(`${root}api/package.json`, 'utf8'));
const external = Object.entries(manifest.dependencies)
  .filter(([, version]) => !String(version).startsWith('workspace:'))
  .flatMap(([name]) => [name, `${name}/*`]);

const result = await build({
  absWorkingDir: root,
  entryPoints: ['api/src/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  sourcemap: 'linked',
  outfile: 'api/dist/main.js',
  write: false,
  logLevel: 'warning',
  // Bundled CommonJS dependencies of the workspace sources may call require().
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});

mkdirSync(`${root}api/dist`, { recursive: true });
for (const file of result.outputFiles) {
  const temporary = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temporary, file.contents);
  renameSync(temporary, file.path);
}
