import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, REPO_ROOT } from './process.ts';

export const CHROMIUM = process.env.DOORSTEP_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(REPO_ROOT, 'test/artifacts');
export const ADMIN = { email: 'admin@lumen.example', password: 'lumen-admin-password' };
export const SEED_PUBLIC_KEY = 'dpk_e2e-public-key-0123456789abcdefghij';
export const SEED_SECRET_KEY = 'dsk_e2e-secret-key-0123456789abcdefghij';

export type TStack = { apiUrl: string; studioUrl: string; demoUrl: string; browser: Browser; stop(): Promise<void> };

/** What `pnpm start` runs (studio build, API, studio, demo app) on a fresh PGlite folder, plus Debian's Chromium. */
/**
 * Builds the studio once per test run, whichever end-to-end file gets here first: two files build
 * at once otherwise, and a build replaces the files a running studio still loads. A folder is the
 * lock (mkdir is atomic); a marker in the build names the run that made it.
 */
async function ensureStudioBuilt(): Promise<void> {
  const runId = process.env.DOORSTEP_TEST_RUN_ID ?? 'standalone';
  const marker = join(REPO_ROOT, 'studio/build/.test-run-id');
  const lock = join(REPO_ROOT, 'studio/.build-lock');
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (waited > 300_000) throw new Error(`The studio build lock ${lock} is held for over 5 minutes; remove it if no test is running`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (existsSync(marker) && readFileSync(marker, 'utf8') === runId) return;
    const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], { cwd: join(REPO_ROOT, 'studio'), encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`The studio build failed:\n${build.stdout}${build.stderr}`);
    writeFileSync(marker, runId);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export async function startStack(): Promise<TStack> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set DOORSTEP_CHROMIUM)`);
  await ensureStudioBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'doorstep-e2e-'));
  const [apiPort, studioPort, demoPort] = [await freePort(), await freePort(), await freePort()];
  const studioUrl = `http://localhost:${studioPort}`;
  const demoUrl = `http://localhost:${demoPort}`;
  let output = '';
  const stack: ChildProcess = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, DOORSTEP_DATA_DIR: dataDir,
      DOORSTEP_API_PORT: String(apiPort), DOORSTEP_STUDIO_PORT: String(studioPort), DOORSTEP_STUDIO_HOST: '127.0.0.1',
      DOORSTEP_DEMO_PORT: String(demoPort), DOORSTEP_DEMO_HOST: '127.0.0.1',
      DOORSTEP_SEED_ADMIN_EMAIL: ADMIN.email, DOORSTEP_SEED_ADMIN_PASSWORD: ADMIN.password,
      DOORSTEP_SEED_PUBLIC_KEY: SEED_PUBLIC_KEY, DOORSTEP_SEED_SECRET_KEY: SEED_SECRET_KEY,
      // The API was built by the suite's global setup, the studio just above.
      DOORSTEP_PREBUILT: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  stack.stdout!.on('data', (c) => (output += c));
  stack.stderr!.on('data', (c) => (output += c));
  for (let i = 0; ; i++) {
    const up = (url: string) => fetch(url).then((r) => r.ok, () => false);
    if ((await up(`${studioUrl}/login`)) && (await up(`${demoUrl}/healthz`))) break;
    if (i > 1200 || stack.exitCode !== null) throw new Error(`pnpm start did not bring the studio up:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    apiUrl: `http://127.0.0.1:${apiPort}`,
    studioUrl,
    demoUrl,
    browser,
    stop: async () => {
      await browser.close();
      await new Promise<void>((resolve) => {
        if (stack.exitCode !== null) return resolve();
        stack.once('exit', () => resolve());
        stack.kill('SIGTERM');
      });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function signIn(page: Page, studioUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${studioUrl}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/flows');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
