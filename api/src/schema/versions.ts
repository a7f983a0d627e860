import { diffContent, type TDiffChange } from '@doorstep/schema';
import { builder } from '../builder.ts';
import type { TManagementPrincipal } from '../auth/principal.ts';
import type { TContext } from '../context.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { findEnvironmentOrThrow, findFlowOrThrow } from '../domain/flows.ts';
import { managementWrite, type TAuditFact } from '../domain/management-write.ts';
import { inFlightVersions, publishDraft, rollBack, type TInFlightPolicy } from '../domain/publishing.ts';
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

export const InFlightPolicy = builder.enumType('InFlightPolicy', {
  description: 'What a publish or rollback does to users who started another version of the flow and have not finished it',
  values: {
    keep: { description: 'They finish the version they started; new users get the new one' },
    restart: { description: 'They start the new version from its first step' },
    exit: { description: 'Their flow ends; analytics count them as exited' },
  } as const,
});

const InFlightVersion = builder.objectRef<{ version: number | null; users: number }>('InFlightVersion').implement({
  fields: (t) => ({
    version: t.exposeInt('version', { nullable: true, description: 'Null for progress recorded before versions were tracked' }),
    users: t.exposeInt('users'),
  }),
});

builder.prismaObject('FlowRelease', {
  description: 'The version one environment serves for a flow',
  fields: (t) => ({
    environment: t.relation('environment'),
    version: t.relation('version'),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    updatedBy: t.exposeString('updatedBy'),
    keptVersions: t.exposeIntList('keptVersions', { description: 'Earlier versions still served to the users who started them and have not finished' }),
    inFlight: t.field({
      type: [InFlightVersion],
      description: 'Users mid-flow in a version other than `toVersion`, by version: whom a publish (omit `toVersion`) or a rollback to `toVersion` would keep, restart or exit',
      args: { toVersion: t.arg.int({ required: false }) },
      resolve: async (release, args, ctx) => {
        const byVersion = await inFlightVersions(ctx.prisma, release.flowId, release.environmentId, args.toVersion ?? null);
        return [...byVersion].map(([version, users]) => ({ version, users })).sort((a, b) => (b.version ?? 0) - (a.version ?? 0));
      },
    }),
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
    inFlight: t.expose('inFlight', { type: InFlightPolicy, description: 'What the move did to users mid-flow in another version' }),
    inFlightUsers: t.exposeInt('inFlightUsers', { description: 'How many users were mid-flow in another version when it moved' }),
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
function moveRelease(
  ctx: TContext & { principal: TManagementPrincipal }, flowKey: string, environmentKey: string, inFlight: TInFlightPolicy, move: TReleaseMove,
) {
  return managementWrite(ctx, {
    notify: { type: 'content', workspaceId: ctx.principal.workspaceId, progress: inFlight !== 'keep' },
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
      inFlight: t.arg({ type: InFlightPolicy, required: false, description: 'What happens to users mid-flow in an earlier version; default keep' }),
    },
    resolve: async (query, _root, args, ctx) => {
      const inFlight = args.inFlight ?? 'keep';
      const ids = await moveRelease(ctx, args.flowKey, args.environmentKey, inFlight, async (tx, principal, flowId, environmentId) => {
        const published = await publishDraft(tx, principal, flowId, environmentId, args.expectedRevision, inFlight);
        return published.moved
          ? {
              action: 'flow.publish', targetType: 'flow', targetId: flowId,
              data: { environmentId, version: published.versionNumber, inFlight, inFlightUsers: published.inFlightUsers },
            }
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
      inFlight: t.arg({ type: InFlightPolicy, required: false, description: 'What happens to users mid-flow in another version; default keep' }),
    },
    resolve: async (query, _root, args, ctx) => {
      const inFlight = args.inFlight ?? 'keep';
      const ids = await moveRelease(ctx, args.flowKey, args.environmentKey, inFlight, async (tx, principal, flowId, environmentId) => {
        const moved = await rollBack(tx, principal, flowId, environmentId, args.version, inFlight);
        return {
          action: 'flow.rollback', targetType: 'flow', targetId: flowId,
          data: { environmentId, from: moved.from, to: moved.to, inFlight, inFlightUsers: moved.inFlightUsers },
        };
      });
      return ctx.prisma.flowRelease.findUniqueOrThrow({ ...query, where: { flowId_environmentId: ids } });
    },
  }),
);
