// `pnpm sdk:size`: what @doorstep/client costs a page, minified and gzipped. `client` is the
// headless entry alone; `element` is `@doorstep/client/element` bundled on its own (it carries the
// client and the controller it runs on); `together` is what a page loading both entries downloads
// when a bundler shares their common code. `--json` prints the numbers, and the source files that
// went in, for test/sdk/size.test.ts. Chunks loaded with import() (the debug view) are not what a
// page pays to show the onboarding: they are measured apart, as `lazy`.
import { build } from 'esbuild';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const entries = { client: 'sdk/src/index.ts', element: 'sdk/src/element.ts' };

// Always split: without splitting esbuild inlines dynamically imported modules into the entry.
const bundle = (entryPoints) => build({
  absWorkingDir: root, entryPoints, bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022',
  splitting: true, outdir: 'sdk/dist', write: false, logLevel: 'warning', legalComments: 'none', metafile: true,
});
/** The entries' chunks and what they import statically: what a page downloads before it runs them. */
const eager = (result, entryPoints) => {
  const outputs = result.metafile.outputs;
  const byPath = new Map(result.outputFiles.map((file) => [relative(root, file.path), file]));
  // A dynamically imported module is an entry point of its own in the metafile: only ours count.
  const seen = new Set(Object.keys(outputs).filter((path) => entryPoints.includes(outputs[path].entryPoint)));
  for (const path of seen) for (const link of outputs[path].imports) if (link.kind === 'import-statement') seen.add(link.path);
  return { eager: [...seen].map((path) => byPath.get(path)), lazy: [...byPath].filter(([path]) => !seen.has(path)).map(([, file]) => file) };
};
const measure = (files) => files.reduce((sum, file) => ({
  minified: sum.minified + file.contents.length,
  gzipped: sum.gzipped + gzipSync(file.contents, { level: 9 }).length,
}), { minified: 0, gzipped: 0 });

const together = await bundle(Object.values(entries));
const split = eager(together, Object.values(entries));
const sizes = {
  client: measure(eager(await bundle([entries.client]), [entries.client]).eager),
  element: measure(eager(await bundle([entries.element]), [entries.element]).eager),
  together: measure(split.eager),
  lazy: measure(split.lazy),
};

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ ...sizes, inputs: Object.keys(together.metafile.inputs) }));
} else {
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`.padStart(9);
  console.log('                         minified   gzipped');
  for (const [name, size] of Object.entries(sizes)) console.log(`${name.padEnd(24)} ${kb(size.minified)} ${kb(size.gzipped)}  (${size.gzipped} B)`);
}
