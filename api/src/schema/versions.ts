import { diffContent, type TDiffChange } from '@doorstep/schema';
import { builder } from '../builder.ts';
import type { TManagementPrincipal } from '../auth/principal.ts';
import type { TContext } from '../context.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { findEnvironmentOrThrow, findFlowOrThrow } from '../domain/flows.ts';
import { managementWrite, type TAuditFact } from '../domain/management-write.ts';
import { publishDraft, rollBack } from '../domain/publishing.ts';
import { NotFoundError } from '../errors.ts';
import { WRITE_ERRORS, WRITE_ERRORS_WITH_CONFLICT } from './errors.ts';

builder.prismaObject('FlowVersion', {
  fields: (t) => ({
    id: t.exposeID('id'),
    number: t.exposeInt('number'),
    content: t.expose('content', { type: 'JSON' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    createdBy: t.exposeString('createdBy'),
  }),
});

builder.prismaObject('FlowRelease', {
  description: 'The version one environment serves for a flow',
  fields: (t) => ({
    environment: t.relation('environment'),
    version: t.relation('version'),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    updatedBy: t.exposeString('updatedBy'),
  }),
});

const PointerMoveKind = builder.enumType('PointerMoveKind', { values: ['publish', 'rollback'] as const });

builder.prismaObject('PointerMove', {
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.expose('kind', { type: PointerMoveKind }),
    environment: t.relation('environment'),
    fromVersion: t.relation('fromVersion', { nullable: true }),
    toVersion: t.relation('toVersion'),
    actor: t.exposeString('actor'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const DiffKind = builder.enumType('DiffKind', { values: ['added', 'removed', 'changed'] as const });

const DiffChange = builder.objectRef<TDiffChange>('DiffChange').implement({
  fields: (t) => ({
    path: t.exposeString('path', { description: 'Steps and other lists with ids are addressed by id: steps[id=welcome].title' }),
    kind: t.field({ type: DiffKind, resolve: (c) => c.kind }),
    before: t.field({ type: 'JSON', nullable: true, resolve: (c) => c.before ?? null }),
    after: t.field({ type: 'JSON', nullable: true, resolve: (c) => c.after ?? null }),
  }),
});

builder.queryField('versionDiff', (t) =>
  t.withAuth({ viewer: true }).field({
    skipTypeScopes: true,
    type: [DiffChange],
    description: 'What changed from one version to another; omit `to` to compare with the draft',
    args: {
      flowKey: t.arg.string({ required: true }),
      from: t.arg.int({ required: true }),
      to: t.arg.int({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      const flow = await findFlowOrThrow(ctx.prisma, ctx.principal.workspaceId, args.flowKey);
      const load = async (number: number) => {
        const version = await ctx.prisma.flowVersion.findUnique({ where: { flowId_number: { flowId: flow.id, number } } });
        if (!version) throw new NotFoundError('version', String(number));
        return version.content;
      };
      const before = await load(args.from);
      const after = args.to == null
        ? (await ctx.prisma.flowDraft.findUniqueOrThrow({ where: { flowId: flow.id } })).content
        : await load(args.to);
      return diffContent(before, after);
    },
  }),
);

type TReleaseMove = (tx: Prisma.TransactionClient, principal: TManagementPrincipal, flowId: string, environmentId: string) => Promise<TAuditFact | null>;

/** Publish and rollback alike: move a flow's pointer in one environment, tell every process, return the release. */
function moveRelease(ctx: TContext & { principal: TManagementPrincipal }, flowKey: string, environmentKey: string, move: TReleaseMove) {
  return managementWrite(ctx, {
    notify: { type: 'content', workspaceId: ctx.principal.workspaceId },
    change: async (tx, principal) => {
      const flow = await findFlowOrThrow(tx, principal.workspaceId, flowKey);
      const environment = await findEnvironmentOrThrow(tx, principal.workspaceId, environmentKey);
      const audit = await move(tx, principal, flow.id, environment.id);
      return { value: { flowId: flow.id, environmentId: environment.id }, audit };
    },
  });
}

builder.mutationField('publishFlow', (t) =>
  t.withAuth({ publisher: true }).prismaField({
    skipTypeScopes: true,
    type: 'FlowRelease',
    description: 'Publishes the draft to an environment as an immutable version',
    errors: { types: WRITE_ERRORS_WITH_CONFLICT },
    args: {
      flowKey: t.arg.string({ required: true }),
      environmentKey: t.arg.string({ required: true }),
      expectedRevision: t.arg.int({ required: false, description: 'The draft revision that was reviewed; publishing fails with CONFLICT if it moved on' }),
    },
    resolve: async (query, _root, args, ctx) => {
      const ids = await moveRelease(ctx, args.flowKey, args.environmentKey, async (tx, principal, flowId, environmentId) => {
        const published = await publishDraft(tx, principal, flowId, environmentId, args.expectedRevision);
        return published.moved
          ? { action: 'flow.publish', targetType: 'flow', targetId: flowId, data: { environmentId, version: published.versionNumber } }
          : null;
      });
      return ctx.prisma.flowRelease.findUniqueOrThrow({ ...query, where: { flowId_environmentId: ids } });
    },
  }),
);

builder.mutationField('rollbackFlow', (t) =>
  t.withAuth({ publisher: true }).prismaField({
    skipTypeScopes: true,
    type: 'FlowRelease',
    description: 'Points an environment back at an earlier version',
    errors: { types: WRITE_ERRORS },
    args: {
      flowKey: t.arg.string({ required: true }),
      environmentKey: t.arg.string({ required: true }),
      version: t.arg.int({ required: true }),
    },
    resolve: async (query, _root, args, ctx) => {
      const ids = await moveRelease(ctx, args.flowKey, args.environmentKey, async (tx, principal, flowId, environmentId) => {
        const moved = await rollBack(tx, principal, flowId, environmentId, args.version);
        return { action: 'flow.rollback', targetType: 'flow', targetId: flowId, data: { environmentId, from: moved.from, to: moved.to } };
      });
      return ctx.prisma.flowRelease.findUniqueOrThrow({ ...query, where: { flowId_environmentId: ids } });
    },
  }),
);
