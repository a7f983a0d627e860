import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ENVIRONMENTS } from '@doorstep/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../api/src/db/database.ts';
import { migrate } from '../../api/src/db/migrator.ts';
import { exportWorkspace } from '../../api/src/domain/workspace-bundle.ts';
import { seedDemo } from '../../api/src/seed.ts';
import { REPO_ROOT } from '../support/process.ts';

const TARGETS = ['dry-run-target', 'import-target'] as const;
const CLI_TIMEOUT_MS = 120_000;

/** Runs `pnpm doorstep …` as the script does (tsx), against the PGlite database in `dataDir`. */
function doorstep(dataDir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(REPO_ROOT, 'node_modules/.bin/tsx'), ['api/src/cli.ts', ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DOORSTEP_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const content = (bundle: Record<string, unknown>) => JSON.stringify({ ...bundle, exportedAt: undefined, workspace: undefined });

describe('pnpm doorstep export and import', () => {
  let dir: string;
  let dataDir: string;
  let bundleFile: string;
  let bundle: Record<string, unknown>;

  // One PGlite directory for the file: a process holds it while it runs, so the CLI runs with it closed here.
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'doorstep-cli-'));
    dataDir = join(dir, 'data');
    const db = await openDatabase({ dataDir });
    try {
      await migrate(db);
      const demo = await seedDemo(db.prisma, {}, { slug: 'demo', name: 'Demo' });
      for (const slug of TARGETS) {
        await db.prisma.workspace.create({ data: { slug, name: slug, environments: { create: DEFAULT_ENVIRONMENTS.map((e) => ({ key: e.key, name: e.name })) } } });
      }
      bundle = await exportWorkspace(db.prisma, demo.workspaceId);
    } finally {
      await db.close();
    }
    bundleFile = join(dir, 'bundle.json');
    writeFileSync(bundleFile, JSON.stringify(bundle));
  }, CLI_TIMEOUT_MS);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should export a workspace to a file', async () => {
    const out = join(dir, 'export.json');
    const res = await doorstep(dataDir, ['export', '--workspace', 'demo', '--out', out]);
    expect(res.code, res.stderr).toBe(0);
    expect(content(JSON.parse(readFileSync(out, 'utf8')))).toBe(content(bundle));
  }, CLI_TIMEOUT_MS);

  it('should print the plan and write nothing on --dry-run', async () => {
    const res = await doorstep(dataDir, ['import', bundleFile, '--workspace', 'dry-run-target', '--dry-run']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('Dry run for "dry-run-target": nothing was written.');
    expect(res.stdout).toMatch(/\+ flow +self-serve/);
    const after = await doorstep(dataDir, ['export', '--workspace', 'dry-run-target']);
    expect(JSON.parse(after.stdout)).toMatchObject({ flows: [], segments: [] });
  }, CLI_TIMEOUT_MS);

  it('should import a bundle so that the workspace exports the same content', async () => {
    const res = await doorstep(dataDir, ['import', bundleFile, '--workspace', 'import-target']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('Imported into "import-target".');
    const after = await doorstep(dataDir, ['export', '--workspace', 'import-target']);
    expect(content(JSON.parse(after.stdout))).toBe(content(bundle));
  }, CLI_TIMEOUT_MS);

  it('should exit non-zero naming where an invalid bundle is wrong', async () => {
    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ ...bundle, version: 2 }));
    const res = await doorstep(dataDir, ['import', invalid, '--workspace', 'demo']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('The bundle is not valid:\n  version: This installation reads bundles of version 1');
  }, CLI_TIMEOUT_MS);

  it('should exit non-zero for a workspace that does not exist', async () => {
    const res = await doorstep(dataDir, ['export', '--workspace', 'nowhere']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('No workspace "nowhere"');
  }, CLI_TIMEOUT_MS);
});
