import {
  RECOMMENDED_MAX_STEPS, ZFlowContent, ZFlowCreateInput, ZFlowUpdateInput, type TFlowContent,
} from '@doorstep/schema';
import { builder } from '../builder.ts';
import { recordAudit } from '../audit.ts';
import { requireRole } from '../auth/guards.ts';
import { audienceColumns, findFlowOrThrow } from '../domain/flows.ts';
import { starterContent } from '../domain/starter-content.ts';
import { ConflictError, invalid } from '../errors.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { parseInput, withoutNulls } from '../validate.ts';
import { WRITE_ERRORS, WRITE_ERRORS_WITH_CONFLICT } from './errors.ts';

builder.prismaObject('Flow', {
  fields: (t) => ({
    id: t.exposeID('id'),
    key: t.exposeString('key'),
    name: t.exposeString('name'),
    priority: t.exposeInt('priority'),
    segment: t.relation('segment', { nullable: true, description: 'The audience, when it is a saved segment' }),
    audienceCondition: t.expose('audienceCondition', { type: 'JSON', nullable: true, description: 'The audience, when it is an inline condition' }),
    archivedAt: t.expose('archivedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    draft: t.relation('draft', { nullable: true }),
    versions: t.relation('versions', { query: { orderBy: { number: 'desc' } } }),
    releases: t.relation('releases', { description: 'What each environment serves' }),
    history: t.relation('pointerMoves', { description: 'Every publish and rollback, newest first', query: { orderBy: { createdAt: 'desc' } } }),
  }),
});

builder.prismaObject('FlowDraft', {
  fields: (t) => ({
    revision: t.exposeInt('revision', { description: 'Send it back with saveDraft; a stale one fails with CONFLICT' }),
    content: t.expose('content', { type: 'JSON' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    updatedBy: t.exposeString('updatedBy'),
    warnings: t.stringList({
      description: 'Advice that does not block saving or publishing',
      resolve: (draft) => draftWarnings(draft.content as unknown as TFlowContent),
    }),
  }),
});

function draftWarnings(content: TFlowContent): string[] {
  const steps = content.steps.length;
  return steps > RECOMMENDED_MAX_STEPS
    ? [`This flow has ${steps} steps; flows of ${RECOMMENDED_MAX_STEPS} or fewer steps activate more users`]
    : [];
}

builder.queryField('flows', (t) =>
  t.prismaField({
    type: ['Flow'],
    args: { includeArchived: t.arg.boolean({ required: false, defaultValue: false }) },
    resolve: (query, _root, args, ctx) => {
      const principal = requireRole(ctx, 'viewer');
      return ctx.prisma.flow.findMany({
        ...query,
        where: { workspaceId: principal.workspaceId, ...(args.includeArchived ? {} : { archivedAt: null }) },
        orderBy: [{ priority: 'desc' }, { key: 'asc' }],
      });
    },
  }),
);

builder.queryField('flow', (t) =>
  t.prismaField({
    type: 'Flow',
    nullable: true,
    args: { key: t.arg.string({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const principal = requireRole(ctx, 'viewer');
      return ctx.prisma.flow.findUnique({ ...query, where: { workspaceId_key: { workspaceId: principal.workspaceId, key: args.key } } });
    },
  }),
);

const AudienceInput = builder.inputType('AudienceInput', {
  description: 'A saved segment or an inline condition; neither means everyone',
  fields: (t) => ({ segmentKey: t.string(), condition: t.field({ type: 'JSON' }) }),
});

const CreateFlowInput = builder.inputType('CreateFlowInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    name: t.string({ required: true }),
    priority: t.int(),
    audience: t.field({ type: AudienceInput }),
  }),
});

const UpdateFlowInput = builder.inputType('UpdateFlowInput', {
  fields: (t) => ({ name: t.string(), priority: t.int(), audience: t.field({ type: AudienceInput }) }),
});


builder.mutationField('createFlow', (t) =>
  t.prismaField({
    type: 'Flow',
    errors: { types: WRITE_ERRORS },
    args: { input: t.arg({ type: CreateFlowInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const principal = requireRole(ctx, 'editor');
      const input = parseInput(ZFlowCreateInput, withoutNulls(args.input));
      const id = await ctx.prisma.$transaction(async (tx) => {
        const taken = await tx.flow.findUnique({ where: { workspaceId_key: { workspaceId: principal.workspaceId, key: input.key } } });
        if (taken) invalid('key', `A flow "${input.key}" already exists`);
        const flow = await tx.flow.create({
          data: {
            workspaceId: principal.workspaceId,
            key: input.key,
            name: input.name,
            priority: input.priority,
            ...(await audienceColumns(tx, principal.workspaceId, input.audience)),
            draft: { create: { content: starterContent(input.name) as Prisma.InputJsonObject, updatedBy: principal.actor } },
          },
        });
        await recordAudit(tx, { workspaceId: principal.workspaceId, actor: principal.actor, action: 'flow.create', targetType: 'flow', targetId: flow.id, data: { key: input.key, name: input.name } });
        return flow.id;
      });
      return ctx.prisma.flow.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

builder.mutationField('updateFlow', (t) =>
  t.prismaField({
    type: 'Flow',
    description: 'Rename, reprioritise or retarget a flow; takes effect at once in every environment',
    errors: { types: WRITE_ERRORS },
    args: { key: t.arg.string({ required: true }), input: t.arg({ type: UpdateFlowInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const principal = requireRole(ctx, 'editor');
      const input = parseInput(ZFlowUpdateInput, withoutNulls(args.input));
      const id = await ctx.prisma.$transaction(async (tx) => {
        const flow = await findFlowOrThrow(tx, principal.workspaceId, args.key);
        await tx.flow.update({
          where: { id: flow.id },
          data: { name: input.name, priority: input.priority, ...(await audienceColumns(tx, principal.workspaceId, input.audience)) },
        });
        await recordAudit(tx, { workspaceId: principal.workspaceId, actor: principal.actor, action: 'flow.update', targetType: 'flow', targetId: flow.id, data: JSON.parse(JSON.stringify(input)) });
        return flow.id;
      });
      await ctx.services.bus.publish({ type: 'content', workspaceId: principal.workspaceId });
      return ctx.prisma.flow.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

function archiveMutation(name: 'archiveFlow' | 'restoreFlow', archived: boolean) {
  builder.mutationField(name, (t) =>
    t.prismaField({
      type: 'Flow',
      description: archived ? 'Stops serving the flow everywhere; versions and history are kept' : 'Undoes archiveFlow',
      errors: { types: WRITE_ERRORS },
      args: { key: t.arg.string({ required: true }) },
      resolve: async (query, _root, args, ctx) => {
        const principal = requireRole(ctx, 'editor');
        const id = await ctx.prisma.$transaction(async (tx) => {
          const flow = await findFlowOrThrow(tx, principal.workspaceId, args.key);
          await tx.flow.update({ where: { id: flow.id }, data: { archivedAt: archived ? new Date() : null } });
          await recordAudit(tx, { workspaceId: principal.workspaceId, actor: principal.actor, action: archived ? 'flow.archive' : 'flow.restore', targetType: 'flow', targetId: flow.id });
          return flow.id;
        });
        await ctx.services.bus.publish({ type: 'content', workspaceId: principal.workspaceId });
        return ctx.prisma.flow.findUniqueOrThrow({ ...query, where: { id } });
      },
    }),
  );
}
archiveMutation('archiveFlow', true);
archiveMutation('restoreFlow', false);

builder.mutationField('saveDraft', (t) =>
  t.prismaField({
    type: 'FlowDraft',
    description: 'Saves the draft if `revision` is still current; otherwise fails with CONFLICT and changes nothing',
    errors: { types: WRITE_ERRORS_WITH_CONFLICT },
    args: {
      flowKey: t.arg.string({ required: true }),
      revision: t.arg.int({ required: true }),
      content: t.arg({ type: 'JSON', required: true }),
    },
    resolve: async (query, _root, args, ctx) => {
      const principal = requireRole(ctx, 'editor');
      const content = parseInput(ZFlowContent, args.content, ['content']);
      const flowId = await ctx.prisma.$transaction(async (tx) => {
        const flow = await findFlowOrThrow(tx, principal.workspaceId, args.flowKey);
        if (flow.archivedAt) invalid('flowKey', 'Restore the flow before editing it');
        // Compare-and-set in one statement: of two concurrent saves at one revision, exactly one matches.
        const { count } = await tx.flowDraft.updateMany({
          where: { flowId: flow.id, revision: args.revision },
          data: { content: content as Prisma.InputJsonObject, revision: { increment: 1 }, updatedBy: principal.actor },
        });
        if (count === 0) {
          const current = await tx.flowDraft.findUnique({ where: { flowId: flow.id } });
          throw new ConflictError(
            `The draft was saved by ${current?.updatedBy ?? 'someone else'} since revision ${args.revision}; reload it and reapply your edits`,
            current?.revision ?? null,
          );
        }
        await recordAudit(tx, { workspaceId: principal.workspaceId, actor: principal.actor, action: 'draft.save', targetType: 'flow', targetId: flow.id, data: { revision: args.revision + 1 } });
        return flow.id;
      });
      return ctx.prisma.flowDraft.findUniqueOrThrow({ ...query, where: { flowId } });
    },
  }),
);
