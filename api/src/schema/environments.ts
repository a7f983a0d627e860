import { ZEnvironmentInput } from '@doorstep/schema';
import { builder } from '../builder.ts';
import { newIdentitySecret } from '../auth/identity.ts';
import { findEnvironmentOrThrow } from '../domain/flows.ts';
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

const Environment = builder.prismaObject('Environment', {
  fields: (t) => ({
    id: t.exposeID('id'),
    key: t.exposeString('key'),
    name: t.exposeString('name'),
    identityVerification: t.boolean({
      description: "Whether runtime calls must carry user ids signed with the environment's identity secret",
      select: { identitySecret: true },
      resolve: (environment) => environment.identitySecret !== null,
    }),
    trustedDocumentsOnly: t.exposeBoolean('trustedDocumentsOnly', {
      description: 'Whether public keys may send only the documents @doorstep/client sends (no other selection, no debug explanations)',
    }),
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

type TIdentitySecret = { environmentId: string; secret: string };
const IdentitySecret = builder.objectRef<TIdentitySecret>('IdentitySecret').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'Shown once: your backend signs user ids with it (hex HMAC-SHA256)' }),
    environment: t.prismaField({
      type: Environment,
      resolve: (query, created, _args, ctx) => ctx.prisma.environment.findUniqueOrThrow({ ...query, where: { id: created.environmentId } }),
    }),
  }),
});

builder.mutationField('enableIdentityVerification', (t) =>
  t.withAuth({ admin: true }).field({
    skipTypeScopes: true,
    type: IdentitySecret,
    description: 'Turns identity verification on with a new secret (calling it again rotates the secret: the old one stops working at once)',
    errors: { types: WRITE_ERRORS },
    args: { environmentKey: t.arg.string({ required: true }) },
    resolve: async (_root, { environmentKey }, ctx) => {
      const secret = newIdentitySecret();
      const environmentId = await managementWrite(ctx, {
        notify: { type: 'keys' },
        change: async (tx, principal) => {
          const environment = await findEnvironmentOrThrow(tx, principal.workspaceId, environmentKey);
          await tx.environment.update({ where: { id: environment.id }, data: { identitySecret: secret } });
          const action = environment.identitySecret ? 'environment.identity.rotate' : 'environment.identity.enable';
          return { value: environment.id, audit: { action, targetType: 'environment', targetId: environment.id, data: { key: environmentKey } } };
        },
      });
      return { environmentId, secret };
    },
  }),
);

builder.mutationField('disableIdentityVerification', (t) =>
  t.withAuth({ admin: true }).prismaField({
    skipTypeScopes: true,
    type: 'Environment',
    description: 'Turns identity verification off and forgets the secret',
    errors: { types: WRITE_ERRORS },
    args: { environmentKey: t.arg.string({ required: true }) },
    resolve: async (query, _root, { environmentKey }, ctx) => {
      const id = await managementWrite(ctx, {
        notify: { type: 'keys' },
        change: async (tx, principal) => {
          const environment = await findEnvironmentOrThrow(tx, principal.workspaceId, environmentKey);
          await tx.environment.update({ where: { id: environment.id }, data: { identitySecret: null } });
          return { value: environment.id, audit: { action: 'environment.identity.disable', targetType: 'environment', targetId: environment.id, data: { key: environmentKey } } };
        },
      });
      return ctx.prisma.environment.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

builder.mutationField('setTrustedDocumentsOnly', (t) =>
  t.withAuth({ admin: true }).prismaField({
    skipTypeScopes: true,
    type: 'Environment',
    description: "Lets the environment's public keys send only the client's documents (on), or any runtime document (off)",
    errors: { types: WRITE_ERRORS },
    args: { environmentKey: t.arg.string({ required: true }), enabled: t.arg.boolean({ required: true }) },
    resolve: async (query, _root, { environmentKey, enabled }, ctx) => {
      const id = await managementWrite(ctx, {
        // Public keys carry the setting: every node drops its cached keys.
        notify: { type: 'keys' },
        change: async (tx, principal) => {
          const environment = await findEnvironmentOrThrow(tx, principal.workspaceId, environmentKey);
          await tx.environment.update({ where: { id: environment.id }, data: { trustedDocumentsOnly: enabled } });
          const action = enabled ? 'environment.trusted_documents.enable' : 'environment.trusted_documents.disable';
          return { value: environment.id, audit: { action, targetType: 'environment', targetId: environment.id, data: { key: environmentKey } } };
        },
      });
      return ctx.prisma.environment.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);
