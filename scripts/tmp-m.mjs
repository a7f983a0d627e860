import { build } from 'esbuild';
const r = await build({ absWorkingDir: process.cwd(), entryPoints: ['sdk/src/element.ts'], bundle: true, minify: true, format: 'esm', splitting: true, outdir: 'sdk/dist', write: false, metafile: true });
process.stdout.write(r.outputFiles[0].text);
