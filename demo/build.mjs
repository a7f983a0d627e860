// Bundles the demo page's script with esbuild, in memory: demo/server.mjs serves the result, so there
// is no build output to keep out of git or lint.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The page's script split into chunks, by served path: the element loads its debug view with
 * import(), a chunk of its own that only `?doorstep-debug` fetches.
 */
export async function buildDemoFiles() {
  const result = await build({
    absWorkingDir: root, entryPoints: ['demo/src/main.ts'], bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022',
    write: false, splitting: true, outdir: 'demo/dist', logLevel: 'warning', legalComments: 'none',
  });
  return Object.fromEntries(result.outputFiles.map((file) => [`/${file.path.split('/').pop()}`, file.text]));
}
