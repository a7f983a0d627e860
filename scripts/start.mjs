// `pnpm start`: builds the API and the studio, then runs them side by side with the Lumen demo app
// (demo/server.mjs, which bundles its page script as it starts). Ctrl-C stops all three; if one
// exits, the others are stopped too, so a half-running stack never goes unnoticed.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const apiPort = process.env.DOORSTEP_API_PORT ?? '4000';
const studioPort = process.env.DOORSTEP_STUDIO_PORT ?? '3000';
const demoPort = process.env.DOORSTEP_DEMO_PORT ?? '3001';

/**
 * The demo app must know its public key before the API runs, and the API prints generated keys
 * only once: so a key is made here, kept in .doorstep/ (git-ignored), and given to the API as its
 * seed key, which the API adds to the demo workspace on every start.
 */
function demoPublicKey() {
  const file = `${root}.doorstep/demo-public-key`;
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = `dpk_${randomBytes(32).toString('base64url')}`;
  mkdirSync(`${root}.doorstep`, { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}
const publicKey = process.env.DOORSTEP_SEED_PUBLIC_KEY || demoPublicKey();

// Tests that start several stacks at once build once beforehand (DOORSTEP_PREBUILT=1): a second
// studio build would replace the files a running studio still loads.
if (process.env.DOORSTEP_PREBUILT !== '1') {
  const apiBuild = spawnSync(process.execPath, ['scripts/build-api.mjs'], { cwd: root, stdio: 'inherit' });
  if (apiBuild.status !== 0) process.exit(apiBuild.status ?? 1);
  const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], { cwd: `${root}studio`, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

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

run('API', ['--enable-source-maps', 'api/dist/main.js'], { DOORSTEP_API_PORT: apiPort, DOORSTEP_SEED_PUBLIC_KEY: publicKey });
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
    // An imported bundle may be up to the API's 1 MB body, plus the form's own parts (adapter-node's default is 512K).
    BODY_SIZE_LIMIT: process.env.BODY_SIZE_LIMIT ?? '2M',
  }, `${root}studio`);
  console.log(`Doorstep studio on http://localhost:${studioPort}`);
  run('Demo', ['demo/server.mjs'], {
    DOORSTEP_DEMO_PORT: demoPort,
    DOORSTEP_DEMO_HOST: process.env.DOORSTEP_DEMO_HOST ?? '0.0.0.0',
    // Where the visitor's browser reaches the API, which is not always where the studio's server does.
    DOORSTEP_DEMO_API_URL: process.env.DOORSTEP_DEMO_API_URL ?? `http://localhost:${apiPort}/graphql`,
    DOORSTEP_DEMO_PUBLIC_KEY: publicKey,
  });
  console.log(`Lumen demo app on http://localhost:${demoPort} (?user=ID&attributes=JSON opens it as that user)`);
}
