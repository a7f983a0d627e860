import { ZAllowedOrigins, ZApiKeyCreateInput } from '@doorstep/schema';
import { builder } from '../builder.ts';
import { generateApiKey } from '../auth/api-keys.ts';
import { findEnvironmentOrThrow } from '../domain/flows.ts';
import { isUuid } from '../domain/ids.ts';
import { managementWrite } from '../domain/management-write.ts';
import { NotFoundError, invalid } from '../errors.ts';
import { graphqlInput } from '../validate.ts';
import { WRITE_ERRORS } from './errors.ts';

export const Role = builder.enumType('Role', { values: ['viewer', 'editor', 'publisher', 'admin'] as const });
const ApiKeyKind = builder.enumType('ApiKeyKind', { values: ['public', 'secret'] as const });

const ApiKey = builder.prismaObject('ApiKey', {
  description: 'Only a prefix is kept readable; the key itself is shown once, when it is created',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    kind: t.expose('kind', { type: ApiKeyKind }),
    role: t.expose('role', { type: Role, nullable: true }),
    environment: t.relation('environment', { nullable: true }),
    prefix: t.exposeString('prefix'),
    allowedOrigins: t.exposeStringList('allowedOrigins', { description: 'Public keys: browser origins allowed to use the key; empty allows any' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    createdBy: t.exposeString('createdBy'),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

type TCreatedKey = { apiKeyId: string; secret: string };
const ApiKeyCreated = builder.objectRef<TCreatedKey>('ApiKeyCreated').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'Store it now: it cannot be shown again' }),
    apiKey: t.prismaField({
      type: ApiKey,
      resolve: (query, created, _args, ctx) => ctx.prisma.apiKey.findUniqueOrThrow({ ...query, where: { id: created.apiKeyId } }),
    }),
  }),
});

builder.queryField('apiKeys', (t) =>
  t.withAuth({ admin: true }).prismaField({
    skipTypeScopes: true,
    type: [ApiKey],
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.apiKey.findMany({ ...query, where: { workspaceId: ctx.principal.workspaceId }, orderBy: { createdAt: 'desc' } }),
  }),
);

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    kind: t.field({ type: ApiKeyKind, required: true }),
    environmentKey: t.string({ description: 'Required for public keys' }),
    allowedOrigins: t.stringList({ description: 'Public keys: browser origins allowed to use the key (https://app.example.com); empty or absent allows any' }),
    role: t.field({ type: Role, description: 'Required for secret keys' }),
  }),
});

builder.mutationField('createApiKey', (t) =>
  t.withAuth({ admin: true }).field({
    skipTypeScopes: true,
    type: ApiKeyCreated,
    errors: { types: WRITE_ERRORS },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }).validate(graphqlInput(ZApiKeyCreateInput)) },
    resolve: async (_root, { input }, ctx) => {
      const generated = generateApiKey(input.kind);
      const apiKeyId = await managementWrite(ctx, {
        change: async (tx, principal) => {
          const environmentId = input.kind === 'public'
            ? (await findEnvironmentOrThrow(tx, principal.workspaceId, input.environmentKey)).id
            : null;
          const key = await tx.apiKey.create({
            data: {
              workspaceId: principal.workspaceId,
              environmentId,
              kind: input.kind,
              role: input.kind === 'secret' ? input.role : null,
              allowedOrigins: input.kind === 'public' ? input.allowedOrigins : [],
              name: input.name,
              prefix: generated.prefix,
              secretHash: generated.secretHash,
              createdBy: principal.actor,
            },
          });
          return { value: key.id, audit: { action: 'apiKey.create', targetType: 'apiKey', targetId: key.id, data: { name: input.name, kind: input.kind } } };
        },
      });
      return { apiKeyId, secret: generated.secret };
    },
  }),
);

builder.mutationField('revokeApiKey', (t) =>
  t.withAuth({ admin: true }).prismaField({
    skipTypeScopes: true,
    type: ApiKey,
    errors: { types: WRITE_ERRORS },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const id = String(args.id);
      if (id === ctx.principal.credentialId) invalid('id', 'A key cannot revoke itself; use another admin key');
      await managementWrite(ctx, {
        notify: { type: 'keys' },
        change: async (tx, principal) => {
          const key = isUuid(id) ? await tx.apiKey.findFirst({ where: { id, workspaceId: principal.workspaceId } }) : null;
          if (!key) throw new NotFoundError('API key', id);
          if (!key.revokedAt) await tx.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
          return { value: id, audit: { action: 'apiKey.revoke', targetType: 'apiKey', targetId: id, data: { name: key.name } } };
        },
      });
      return ctx.prisma.apiKey.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

builder.mutationField('setApiKeyOrigins', (t) =>
  t.withAuth({ admin: true }).prismaField({
    skipTypeScopes: true,
    type: ApiKey,
    description: 'Replaces the browser origins a public key may be used from; an empty list allows any',
    errors: { types: WRITE_ERRORS },
    args: { id: t.arg.id({ required: true }), allowedOrigins: t.arg.stringList({ required: true }).validate(ZAllowedOrigins) },
    resolve: async (query, _root, args, ctx) => {
      const id = String(args.id);
      await managementWrite(ctx, {
        notify: { type: 'keys' },
        change: async (tx, principal) => {
          const key = isUuid(id) ? await tx.apiKey.findFirst({ where: { id, workspaceId: principal.workspaceId } }) : null;
          if (!key) throw new NotFoundError('API key', id);
          if (key.kind !== 'public') invalid('id', 'Only public keys are used from browsers; secret keys take no origins');
          await tx.apiKey.update({ where: { id }, data: { allowedOrigins: [...new Set(args.allowedOrigins)] } });
          return { value: id, audit: { action: 'apiKey.origins', targetType: 'apiKey', targetId: id, data: { name: key.name, allowedOrigins: args.allowedOrigins } } };
        },
      });
      return ctx.prisma.apiKey.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);
