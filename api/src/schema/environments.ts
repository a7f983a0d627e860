import { ZEnvironmentInput } from '@doorstep/schema';
import { builder } from '../builder.ts';
import { recordAudit } from '../audit.ts';
import { requireRole } from '../auth/guards.ts';
import { invalid } from '../errors.ts';
import { parseInput } from '../validate.ts';
import { WRITE_ERRORS } from './errors.ts';

builder.prismaObject('Workspace', {
  fields: (t) => ({
    id: t.exposeID('id'),
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObject('Environment', {
  fields: (t) => ({
    id: t.exposeID('id'),
    key: t.exposeString('key'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('workspace', (t) =>
  t.prismaField({
    type: 'Workspace',
    description: "The workspace of the calling secret key",
    resolve: (query, _root, _args, ctx) => {
      const principal = requireRole(ctx, 'viewer');
      return ctx.prisma.workspace.findUniqueOrThrow({ ...query, where: { id: principal.workspaceId } });
    },
  }),
);

builder.queryField('environments', (t) =>
  t.prismaField({
    type: ['Environment'],
    resolve: (query, _root, _args, ctx) => {
      const principal = requireRole(ctx, 'viewer');
      return ctx.prisma.environment.findMany({ ...query, where: { workspaceId: principal.workspaceId }, orderBy: { createdAt: 'asc' } });
    },
  }),
);

const CreateEnvironmentInput = builder.inputType('CreateEnvironmentInput', {
  fields: (t) => ({ key: t.string({ required: true }), name: t.string({ required: true }) }),
});

builder.mutationField('createEnvironment', (t) =>
  t.prismaField({
    type: 'Environment',
    errors: { types: WRITE_ERRORS },
    args: { input: t.arg({ type: CreateEnvironmentInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const principal = requireRole(ctx, 'admin');
      const input = parseInput(ZEnvironmentInput, args.input);
      const id = await ctx.prisma.$transaction(async (tx) => {
        const taken = await tx.environment.findUnique({ where: { workspaceId_key: { workspaceId: principal.workspaceId, key: input.key } } });
        if (taken) invalid('key', `An environment "${input.key}" already exists`);
        const environment = await tx.environment.create({ data: { ...input, workspaceId: principal.workspaceId } });
        await recordAudit(tx, { workspaceId: principal.workspaceId, actor: principal.actor, action: 'environment.create', targetType: 'environment', targetId: environment.id, data: input });
        return environment.id;
      });
      return ctx.prisma.environment.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);
