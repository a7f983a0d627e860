// `pnpm sdk:size`: what @doorstep/client costs a page, minified and gzipped. `client` is the
// headless entry alone; `element` is `@doorstep/client/element` bundled on its own (it carries the
// client and the controller it runs on); `together` is what a page loading both entries downloads
// when a bundler shares their common code. `--json` prints the numbers, and the source files that
// went in, for test/sdk/size.test.ts.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const entries = { client: 'sdk/src/index.ts', element: 'sdk/src/element.ts' };

const bundle = (entryPoints, splitting) => build({
  absWorkingDir: root, entryPoints, bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022',
  splitting, outdir: 'sdk/dist', write: false, logLevel: 'warning', legalComments: 'none', metafile: true,
});
const measure = (files) => files.reduce((sum, file) => ({
  minified: sum.minified + file.contents.length,
  gzipped: sum.gzipped + gzipSync(file.contents, { level: 9 }).length,
}), { minified: 0, gzipped: 0 });

const together = await bundle(Object.values(entries), true);
const sizes = {
  client: measure((await bundle([entries.client], false)).outputFiles),
  element: measure((await bundle([entries.element], false)).outputFiles),
  together: measure(together.outputFiles),
};

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ ...sizes, inputs: Object.keys(together.metafile.inputs) }));
} else {
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`.padStart(9);
  console.log('                         minified   gzipped');
  for (const [name, size] of Object.entries(sizes)) console.log(`${name.padEnd(24)} ${kb(size.minified)} ${kb(size.gzipped)}  (${size.gzipped} B)`);
}
