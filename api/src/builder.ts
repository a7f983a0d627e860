import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { accessDenied, accessScopes, type TAccessScopes } from './auth/access.ts';
import AuthorizeFirstPlugin from './auth/authorize-first-plugin.ts';
import type { TManagementPrincipal, TPublicPrincipal } from './auth/principal.ts';
import type { TContext } from './context.ts';
import { validationFailed } from './validate.ts';
import type PrismaTypes from './generated/pothos-types.ts';
import { getDatamodel } from './generated/pothos-types.ts';

type TManagementContext = TContext & { principal: TManagementPrincipal };

export const builder = new SchemaBuilder<{
  Context: TContext;
  PrismaTypes: PrismaTypes;
  AuthScopes: TAccessScopes;
  AuthContexts: {
    anyone: TContext;
    publicKey: TContext & { principal: TPublicPrincipal };
    viewer: TManagementContext;
    editor: TManagementContext;
    publisher: TManagementContext;
    admin: TManagementContext;
  };
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  // Errors first, so that refusals and validation failures become typed results where a mutation
  // declares them; then authorization, so that input is never judged for a caller who may not call
  // the field at all (see authorize-first-plugin.ts).
  plugins: [ErrorsPlugin, AuthorizeFirstPlugin, ScopeAuthPlugin, ValidationPlugin, RelayPlugin, PrismaPlugin],
  defaultFieldNullability: false,
  // "Unsafely" because an input error would otherwise reach callers before authorization has run;
  // AuthorizeFirstPlugin runs it first.
  errors: { directResult: true, unsafelyHandleInputErrors: true },
  scopeAuth: {
    authScopes: accessScopes,
    unauthorizedError: (_parent, context, _info, result) => accessDenied(context, result.failure),
  },
  // Connections page lists; Doorstep addresses objects by key, so no global `node` fields.
  relay: { cursorType: 'String', nodeQueryOptions: false, nodesQueryOptions: false },
  validation: {
    validationError: (result) => validationFailed(result.issues),
  },
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
  },
});
