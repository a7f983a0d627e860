// `pnpm start`: builds the API and the studio, then runs them side by side. Ctrl-C stops both;
// if either exits, the other is stopped too, so a half-running stack never goes unnoticed.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const apiPort = process.env.DOORSTEP_API_PORT ?? '4000';
const studioPort = process.env.DOORSTEP_STUDIO_PORT ?? '3000';

const apiBuild = spawnSync(process.execPath, ['scripts/build-api.mjs'], { cwd: root, stdio: 'inherit' });
if (apiBuild.status !== 0) process.exit(apiBuild.status ?? 1);
const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], { cwd: `${root}studio`, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const children = [];
function run(name, args, env, cwd = root) {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: 'inherit' });
  child.on('exit', (code) => {
    if (stopping) return;
    console.error(`${name} exited (${code}); stopping`);
    stop(code ?? 1);
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code = 0) {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

run('API', ['--enable-source-maps', 'api/dist/main.js'], { DOORSTEP_API_PORT: apiPort });
const healthz = `http://127.0.0.1:${apiPort}/healthz`;
for (let i = 0; i < 600 && !stopping; i++) {
  if (await fetch(healthz).then((r) => r.ok, () => false)) break;
  await new Promise((r) => setTimeout(r, 100));
}
if (!stopping) {
  run('Studio', ['build/index.js'], {
    PORT: studioPort,
    HOST: process.env.DOORSTEP_STUDIO_HOST ?? '0.0.0.0',
    // adapter-node cannot know the public URL; form actions' CSRF check compares against it.
    ORIGIN: process.env.DOORSTEP_STUDIO_ORIGIN ?? `http://localhost:${studioPort}`,
    DOORSTEP_API_URL: process.env.DOORSTEP_API_URL ?? `http://127.0.0.1:${apiPort}/graphql`,
  }, `${root}studio`);
  console.log(`Doorstep studio on http://localhost:${studioPort}`);
}
