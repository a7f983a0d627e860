import { builder } from '../builder.ts';
import { managementWrite } from '../domain/management-write.ts';
import {
  IMPORT_ACTIONS, IMPORT_ENTITIES, IMPORT_TIMEOUT_MS, exportWorkspace, importBundle, importConflict, parseBundle,
  type TImportChange, type TImportCount, type TImportPlan,
} from '../domain/workspace-bundle.ts';
import { ValidationError } from '../errors.ts';
import { WRITE_ERRORS_WITH_CONFLICT } from './errors.ts';

const ImportEntity = builder.enumType('ImportEntity', { values: IMPORT_ENTITIES });
const ImportAction = builder.enumType('ImportAction', { values: IMPORT_ACTIONS });

const ImportChange = builder.objectRef<TImportChange>('ImportChange').implement({
  description: 'One item of a bundle and what the import does with it',
  fields: (t) => ({
    entity: t.field({ type: ImportEntity, resolve: (c) => c.entity }),
    action: t.field({ type: ImportAction, resolve: (c) => c.action }),
    key: t.exposeString('key', { description: "The item's key; the flow's for drafts, versions and releases" }),
    version: t.exposeInt('version', { nullable: true, description: 'Versions: the number; releases: the version the environment serves' }),
    environmentKey: t.exposeString('environmentKey', { nullable: true, description: 'Releases: the environment' }),
    fields: t.exposeStringList('fields', { description: 'Updates: the fields that differ' }),
  }),
});

const ImportCount = builder.objectRef<TImportCount>('ImportCount').implement({
  fields: (t) => ({
    entity: t.field({ type: ImportEntity, resolve: (c) => c.entity }),
    create: t.exposeInt('create'),
    update: t.exposeInt('update'),
    unchanged: t.exposeInt('unchanged'),
  }),
});

const ImportPlan = builder.objectRef<TImportPlan>('ImportPlan').implement({
  description: 'What an import changed, or with dryRun would change',
  fields: (t) => ({
    dryRun: t.exposeBoolean('dryRun', { description: 'True when nothing was written' }),
    changes: t.field({ type: [ImportChange], resolve: (p) => p.changes }),
    counts: t.field({ type: [ImportCount], resolve: (p) => p.counts }),
  }),
});

builder.queryField('exportWorkspace', (t) =>
  t.withAuth({ admin: true }).field({
    skipTypeScopes: true,
    type: 'JSON',
    description: "The workspace's segments, placements, flows (drafts, versions, releases) and experiments as one bundle, by key; no ids, keys, secrets, members or user data",
    resolve: (_root, _args, ctx) => exportWorkspace(ctx.prisma, ctx.principal.workspaceId),
  }),
);

builder.mutationField('importWorkspace', (t) =>
  t.withAuth({ admin: true }).field({
    skipTypeScopes: true,
    type: ImportPlan,
    description: 'Merges a bundle of exportWorkspace into this workspace in one transaction: creates what is missing, updates what differs, deletes nothing. '
      + 'With dryRun, only says what it would do. Refuses (VALIDATION, paths under `bundle`) environments the workspace lacks, versions that differ and started experiments that differ',
    errors: { types: WRITE_ERRORS_WITH_CONFLICT },
    args: { bundle: t.arg({ type: 'JSON', required: true }), dryRun: t.arg.boolean({ required: true }) },
    resolve: (_root, args, ctx) => underBundle(async () => {
      const bundle = parseBundle(args.bundle);
      return managementWrite(ctx, {
        notify: args.dryRun ? undefined : { type: 'content', workspaceId: ctx.principal.workspaceId },
        onDuplicate: importConflict,
        timeoutMs: IMPORT_TIMEOUT_MS,
        change: (tx, principal) => importBundle(tx, principal, bundle, { dryRun: args.dryRun }),
      });
    }),
  }),
);

/** Issue paths name the argument they come from, as the validation plugin's do. */
async function underBundle<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError(error.issues.map((i) => ({ ...i, path: i.path ? `bundle.${i.path}` : 'bundle' })));
    throw error;
  }
}
