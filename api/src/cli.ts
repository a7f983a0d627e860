import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase, type TDatabase } from './db/database.ts';
import { migrate } from './db/migrator.ts';
import { auditedTransaction } from './domain/management-write.ts';
import {
  IMPORT_TIMEOUT_MS, exportWorkspace, findWorkspaceBySlug, importBundle, importConflict, parseBundle, type TImportChange, type TImportPlan,
} from './domain/workspace-bundle.ts';
import { loadEnv } from './env.ts';
import { DoorstepError, ValidationError } from './errors.ts';
import { ChangeBus } from './runtime/change-bus.ts';

const USAGE = `Usage:
  pnpm doorstep export --workspace <slug> [--out <file.json>]     writes the bundle to the file, or to standard output
  pnpm doorstep import <file.json> --workspace <slug> [--dry-run]  merges a bundle into the workspace, or only shows what would change

Uses the database the API is configured with (DATABASE_URL, or PGlite in DOORSTEP_DATA_DIR).`;

/** A bundle the API would take is under 1 MB; files may be larger, but not without bound. */
const MAX_BUNDLE_FILE_BYTES = 64 * 1024 * 1024;
const CLI_ACTOR = 'system:cli';

class UsageError extends Error {}

type TCommand =
  | { command: 'export'; workspace: string; out: string | null }
  | { command: 'import'; workspace: string; file: string; dryRun: boolean };

function parseCommand(argv: string[]): TCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { workspace: { type: 'string', short: 'w' }, out: { type: 'string', short: 'o' }, 'dry-run': { type: 'boolean', default: false } },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals: [command, ...rest] } = parsed;
  if (!values.workspace) throw new UsageError('Name the workspace with --workspace <slug>');
  if (command === 'export' && rest.length === 0 && !values['dry-run']) return { command, workspace: values.workspace, out: values.out ?? null };
  if (command === 'import' && rest.length === 1 && !values.out) return { command, workspace: values.workspace, file: rest[0], dryRun: values['dry-run'] };
  throw new UsageError(command === 'export' || command === 'import' ? `Unexpected arguments for ${command}` : `Unknown command "${command ?? ''}"`);
}

function readBundleFile(file: string): unknown {
  const path = resolve(file);
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new UsageError(`Cannot read ${path}`);
  }
  if (size > MAX_BUNDLE_FILE_BYTES) throw new UsageError(`${path} is larger than ${MAX_BUNDLE_FILE_BYTES / 1024 / 1024} MB`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${path} is not JSON: ${(error as Error).message}`);
  }
}

const SIGNS: Record<TImportChange['action'], string> = { create: '+', update: '~', unchanged: '=' };

function describeChange(change: TImportChange): string {
  const what = change.entity === 'version' ? `${change.key} v${change.version}`
    : change.entity === 'release' ? `${change.key} in ${change.environmentKey}: v${change.version}`
      : change.key;
  return `  ${SIGNS[change.action]} ${change.entity.padEnd(10)} ${what}${change.fields.length ? ` (${change.fields.join(', ')})` : ''}`;
}

function formatPlan(plan: TImportPlan, workspace: string): string {
  const lines = [plan.dryRun ? `Dry run for "${workspace}": nothing was written.` : `Imported into "${workspace}".`, ''];
  lines.push(`  ${'entity'.padEnd(12)}${'create'.padStart(8)}${'update'.padStart(8)}${'unchanged'.padStart(11)}`);
  for (const c of plan.counts) lines.push(`  ${c.entity.padEnd(12)}${String(c.create).padStart(8)}${String(c.update).padStart(8)}${String(c.unchanged).padStart(11)}`);
  const changes = plan.changes.filter((c) => c.action !== 'unchanged');
  lines.push('', changes.length ? (plan.dryRun ? 'Would change:' : 'Changed:') : 'Everything is already as the bundle has it.');
  lines.push(...changes.map(describeChange));
  return `${lines.join('\n')}\n`;
}

async function run(command: TCommand, db: TDatabase): Promise<void> {
  const workspace = await findWorkspaceBySlug(db.prisma, command.workspace);
  if (!workspace) {
    const slugs = (await db.prisma.workspace.findMany({ select: { slug: true }, orderBy: { slug: 'asc' }, take: 20 })).map((w) => w.slug);
    throw new UsageError(`No workspace "${command.workspace}"${slugs.length ? `; workspaces: ${slugs.join(', ')}` : ''}`);
  }
  if (command.command === 'export') {
    const json = `${JSON.stringify(await exportWorkspace(db.prisma, workspace.id), null, 2)}\n`;
    if (!command.out) {
      process.stdout.write(json);
      return;
    }
    writeFileSync(resolve(command.out), json);
    console.error(`Wrote the bundle of "${workspace.name}" to ${resolve(command.out)}`);
    return;
  }
  const bundle = parseBundle(readBundleFile(command.file));
  const who = { workspaceId: workspace.id, actor: CLI_ACTOR };
  const plan = await auditedTransaction(db.prisma, {
    onDuplicate: importConflict,
    change: async (tx) => ({ ...(await importBundle(tx, who, bundle, { dryRun: command.dryRun })), by: who }),
  }, { timeoutMs: IMPORT_TIMEOUT_MS });
  // API processes on the same PostgreSQL rebuild their snapshots of the workspace.
  if (!command.dryRun) await new ChangeBus(db).announce({ type: 'content', workspaceId: workspace.id });
  process.stdout.write(formatPlan(plan, workspace.name));
}

async function main(argv: string[]): Promise<number> {
  let command: TCommand;
  try {
    command = parseCommand(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const env = loadEnv();
  const db = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DOORSTEP_DATA_DIR });
  try {
    const applied = await migrate(db);
    if (applied.length > 0) console.error(`Applied migrations: ${applied.join(', ')}`);
    await run(command, db);
    return 0;
  } catch (error) {
    if (error instanceof ValidationError) {
      console.error(`The bundle is not valid:\n${error.issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
      return 1;
    }
    if (error instanceof DoorstepError || error instanceof UsageError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  } finally {
    await db.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
