import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, REPO_ROOT, startApiProcess, type TApiProcess } from './process.ts';

export const CHROMIUM = process.env.DOORSTEP_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(REPO_ROOT, 'test/artifacts');
export const ADMIN = { email: 'admin@lumen.example', password: 'lumen-admin-password' };
export const SEED_PUBLIC_KEY = 'dpk_e2e-public-key-0123456789abcdefghij';
export const SEED_SECRET_KEY = 'dsk_e2e-secret-key-0123456789abcdefghij';

export type TStack = { api: TApiProcess; studioUrl: string; browser: Browser; stop(): Promise<void> };

/** The built studio and a real API process on a fresh PGlite folder, plus Debian's Chromium. */
export async function startStack(): Promise<TStack> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set DOORSTEP_CHROMIUM)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'error'], { cwd: join(REPO_ROOT, 'studio'), encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`Studio build failed:\n${build.stdout}\n${build.stderr}`);

  const dataDir = mkdtempSync(join(tmpdir(), 'doorstep-e2e-'));
  const api = await startApiProcess({
    DOORSTEP_DATA_DIR: dataDir, DOORSTEP_SEED_ADMIN_EMAIL: ADMIN.email, DOORSTEP_SEED_ADMIN_PASSWORD: ADMIN.password,
    DOORSTEP_SEED_PUBLIC_KEY: SEED_PUBLIC_KEY, DOORSTEP_SEED_SECRET_KEY: SEED_SECRET_KEY,
  });
  const port = await freePort();
  const studioUrl = `http://localhost:${port}`;
  let output = '';
  const studio: ChildProcess = spawn(process.execPath, ['build/index.js'], {
    cwd: join(REPO_ROOT, 'studio'),
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', ORIGIN: studioUrl, DOORSTEP_API_URL: `${api.url}/graphql` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  studio.stdout!.on('data', (c) => (output += c));
  studio.stderr!.on('data', (c) => (output += c));
  for (let i = 0; ; i++) {
    if (await fetch(`${studioUrl}/login`).then((r) => r.ok, () => false)) break;
    if (i > 200 || studio.exitCode !== null) throw new Error(`Studio did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    api,
    studioUrl,
    browser,
    stop: async () => {
      await browser.close();
      studio.kill('SIGTERM');
      await api.stop();
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
