import {
  RECOMMENDED_MAX_STEPS, ZFlowContent, ZFlowCreateInput, ZFlowUpdateInput, type TFlowContent,
} from '@doorstep/schema';
import { builder } from '../builder.ts';
import { audienceColumns, findFlowOrThrow } from '../domain/flows.ts';
import { managementWrite } from '../domain/management-write.ts';
import { starterContent } from '../domain/starter-content.ts';
import { ConflictError, ValidationError, invalid } from '../errors.ts';
import { graphqlInput } from '../validate.ts';
import { WRITE_ERRORS, WRITE_ERRORS_WITH_CONFLICT } from './errors.ts';

builder.prismaObject('Flow', {
  fields: (t) => ({
    id: t.exposeID('id'),
    key: t.exposeString('key'),
    name: t.exposeString('name'),
    priority: t.exposeInt('priority'),
    placement: t.exposeString('placement', { description: 'Where the flow shows: main, banner, modal, checklist or a named inline slot' }),
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
      select: { flow: { select: { placement: true } } },
      resolve: (draft) => draftWarnings(draft.content, draft.flow.placement),
    }),
  }),
});

function draftWarnings(content: TFlowContent, placement: string): string[] {
  const steps = content.steps.length;
  const warnings = steps > RECOMMENDED_MAX_STEPS
    ? [`This flow has ${steps} steps; flows of ${RECOMMENDED_MAX_STEPS} or fewer steps activate more users`]
    : [];
  // The drop-in element shows a banner or a modal as its welcome, whose call to action completes one step.
  if ((placement === 'banner' || placement === 'modal') && steps > 1) {
    warnings.push(`A ${placement} shows the welcome only, and its button completes one step at a time: with ${steps} steps, users must act ${steps} times before it goes away. Keep one step.`);
  }
  return warnings;
}

builder.queryField('flows', (t) =>
  t.withAuth({ viewer: true }).prismaField({
    skipTypeScopes: true,
    type: ['Flow'],
    args: { includeArchived: t.arg.boolean({ required: false, defaultValue: false }) },
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.flow.findMany({
        ...query,
        where: { workspaceId: ctx.principal.workspaceId, ...(args.includeArchived ? {} : { archivedAt: null }) },
        orderBy: [{ priority: 'desc' }, { key: 'asc' }],
      }),
  }),
);

builder.queryField('flow', (t) =>
  t.withAuth({ viewer: true }).prismaField({
    skipTypeScopes: true,
    type: 'Flow',
    nullable: true,
    args: { key: t.arg.string({ required: true }) },
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.flow.findUnique({ ...query, where: { workspaceId_key: { workspaceId: ctx.principal.workspaceId, key: args.key } } }),
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
    placement: t.string({ description: 'Default main' }),
    audience: t.field({ type: AudienceInput }),
  }),
});

const UpdateFlowInput = builder.inputType('UpdateFlowInput', {
  fields: (t) => ({ name: t.string(), priority: t.int(), placement: t.string(), audience: t.field({ type: AudienceInput }) }),
});

builder.mutationField('createFlow', (t) =>
  t.withAuth({ editor: true }).prismaField({
    skipTypeScopes: true,
    type: 'Flow',
    errors: { types: WRITE_ERRORS },
    args: { input: t.arg({ type: CreateFlowInput, required: true }).validate(graphqlInput(ZFlowCreateInput)) },
    resolve: async (query, _root, { input }, ctx) => {
      const id = await managementWrite(ctx, {
        onDuplicate: () => new ValidationError([{ path: 'key', message: `A flow "${input.key}" already exists` }]),
        change: async (tx, principal) => {
          const flow = await tx.flow.create({
            data: {
              workspaceId: principal.workspaceId,
              key: input.key,
              name: input.name,
              priority: input.priority,
              placement: input.placement,
              ...(await audienceColumns(tx, principal.workspaceId, input.audience)),
              draft: { create: { content: starterContent(input.name, input.placement), updatedBy: principal.actor } },
            },
          });
          return { value: flow.id, audit: { action: 'flow.create', targetType: 'flow', targetId: flow.id, data: { key: input.key, name: input.name } } };
        },
      });
      return ctx.prisma.flow.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

builder.mutationField('updateFlow', (t) =>
  t.withAuth({ editor: true }).prismaField({
    skipTypeScopes: true,
    type: 'Flow',
    description: 'Rename, reprioritise, move to another placement or retarget a flow; takes effect at once in every environment',
    errors: { types: WRITE_ERRORS },
    args: {
      key: t.arg.string({ required: true }),
      input: t.arg({ type: UpdateFlowInput, required: true }).validate(graphqlInput(ZFlowUpdateInput)),
    },
    resolve: async (query, _root, { key, input }, ctx) => {
      const id = await managementWrite(ctx, {
        notify: { type: 'content', workspaceId: ctx.principal.workspaceId },
        change: async (tx, principal) => {
          const flow = await findFlowOrThrow(tx, principal.workspaceId, key);
          await tx.flow.update({
            where: { id: flow.id },
            data: {
              name: input.name, priority: input.priority, placement: input.placement,
              ...(await audienceColumns(tx, principal.workspaceId, input.audience)),
            },
          });
          return { value: flow.id, audit: { action: 'flow.update', targetType: 'flow', targetId: flow.id, data: toAuditData(input) } };
        },
      });
      return ctx.prisma.flow.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

/** The input as stored JSON: absent fields dropped, as JSON.stringify does. */
function toAuditData(input: object): PrismaJson.AuditData {
  return JSON.parse(JSON.stringify(input)) as PrismaJson.AuditData; // JSON.parse is untyped
}

function archiveMutation(name: 'archiveFlow' | 'restoreFlow', archived: boolean) {
  builder.mutationField(name, (t) =>
    t.withAuth({ editor: true }).prismaField({
      skipTypeScopes: true,
      type: 'Flow',
      description: archived ? 'Stops serving the flow everywhere; versions and history are kept' : 'Undoes archiveFlow',
      errors: { types: WRITE_ERRORS },
      args: { key: t.arg.string({ required: true }) },
      resolve: async (query, _root, args, ctx) => {
        const id = await managementWrite(ctx, {
          notify: { type: 'content', workspaceId: ctx.principal.workspaceId },
          change: async (tx, principal) => {
            const flow = await findFlowOrThrow(tx, principal.workspaceId, args.key);
            await tx.flow.update({ where: { id: flow.id }, data: { archivedAt: archived ? new Date() : null } });
            return { value: flow.id, audit: { action: archived ? 'flow.archive' : 'flow.restore', targetType: 'flow', targetId: flow.id } };
          },
        });
        return ctx.prisma.flow.findUniqueOrThrow({ ...query, where: { id } });
      },
    }),
  );
}
archiveMutation('archiveFlow', true);
archiveMutation('restoreFlow', false);

builder.mutationField('saveDraft', (t) =>
  t.withAuth({ editor: true }).prismaField({
    skipTypeScopes: true,
    type: 'FlowDraft',
    description: 'Saves the draft if `revision` is still current; otherwise fails with CONFLICT and changes nothing',
    errors: { types: WRITE_ERRORS_WITH_CONFLICT },
    args: {
      flowKey: t.arg.string({ required: true }),
      revision: t.arg.int({ required: true }),
      content: t.arg({ type: 'JSON', required: true }).validate(ZFlowContent),
    },
    resolve: async (query, _root, { flowKey, revision, content }, ctx) => {
      const flowId = await managementWrite(ctx, {
        change: async (tx, principal) => {
          const flow = await findFlowOrThrow(tx, principal.workspaceId, flowKey);
          if (flow.archivedAt) invalid('flowKey', 'Restore the flow before editing it');
          // Compare-and-set in one statement: of two concurrent saves at one revision, exactly one matches.
          const { count } = await tx.flowDraft.updateMany({
            where: { flowId: flow.id, revision },
            data: { content, revision: { increment: 1 }, updatedBy: principal.actor },
          });
          if (count === 0) {
            const current = await tx.flowDraft.findUnique({ where: { flowId: flow.id } });
            throw new ConflictError(
              `The draft was saved by ${current?.updatedBy ?? 'someone else'} since revision ${revision}; reload it and reapply your edits`,
              current?.revision ?? null,
            );
          }
          return { value: flow.id, audit: { action: 'draft.save', targetType: 'flow', targetId: flow.id, data: { revision: revision + 1 } } };
        },
      });
      return ctx.prisma.flowDraft.findUniqueOrThrow({ ...query, where: { flowId } });
    },
  }),
);
