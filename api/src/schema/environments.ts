import { ZEnvironmentInput } from '@doorstep/schema';
import { builder } from '../builder.ts';
import { managementWrite } from '../domain/management-write.ts';
import { ValidationError } from '../errors.ts';
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
  t.withAuth({ viewer: true }).prismaField({
    skipTypeScopes: true,
    type: 'Workspace',
    description: 'The workspace of the calling secret key',
    resolve: (query, _root, _args, ctx) => ctx.prisma.workspace.findUniqueOrThrow({ ...query, where: { id: ctx.principal.workspaceId } }),
  }),
);

builder.queryField('environments', (t) =>
  t.withAuth({ viewer: true }).prismaField({
    skipTypeScopes: true,
    type: ['Environment'],
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.environment.findMany({ ...query, where: { workspaceId: ctx.principal.workspaceId }, orderBy: { createdAt: 'asc' } }),
  }),
);

const CreateEnvironmentInput = builder.inputType('CreateEnvironmentInput', {
  fields: (t) => ({ key: t.string({ required: true }), name: t.string({ required: true }) }),
});

builder.mutationField('createEnvironment', (t) =>
  t.withAuth({ admin: true }).prismaField({
    skipTypeScopes: true,
    type: 'Environment',
    errors: { types: WRITE_ERRORS },
    args: { input: t.arg({ type: CreateEnvironmentInput, required: true }).validate(ZEnvironmentInput) },
    resolve: async (query, _root, { input }, ctx) => {
      const id = await managementWrite(ctx, {
        onDuplicate: () => new ValidationError([{ path: 'key', message: `An environment "${input.key}" already exists` }]),
        change: async (tx, principal) => {
          const environment = await tx.environment.create({ data: { ...input, workspaceId: principal.workspaceId } });
          return { value: environment.id, audit: { action: 'environment.create', targetType: 'environment', targetId: environment.id, data: input } };
        },
      });
      return ctx.prisma.environment.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);
