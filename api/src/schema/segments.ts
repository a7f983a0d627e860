import { evalCondition, evaluationAttributes, ZCondition, ZRuntimeUser, ZSegmentInput, ZSegmentUpdateInput, type TCondition } from '@doorstep/schema';
import { builder } from '../builder.ts';
import { recordAudit } from '../audit.ts';
import { requireRole } from '../auth/guards.ts';
import { ConflictError, NotFoundError, invalid } from '../errors.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { parseInput, withoutNulls } from '../validate.ts';
import { WRITE_ERRORS, WRITE_ERRORS_WITH_CONFLICT } from './errors.ts';

builder.prismaObject('Segment', {
  fields: (t) => ({
    id: t.exposeID('id'),
    key: t.exposeString('key'),
    name: t.exposeString('name'),
    condition: t.expose('condition', { type: 'JSON' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    flows: t.relation('flows', { description: 'Flows that target this segment' }),
  }),
});

builder.queryField('segments', (t) =>
  t.prismaField({
    type: ['Segment'],
    resolve: (query, _root, _args, ctx) => {
      const principal = requireRole(ctx, 'viewer');
      return ctx.prisma.segment.findMany({ ...query, where: { workspaceId: principal.workspaceId }, orderBy: { key: 'asc' } });
    },
  }),
);

builder.queryField('segment', (t) =>
  t.prismaField({
    type: 'Segment',
    nullable: true,
    args: { key: t.arg.string({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const principal = requireRole(ctx, 'viewer');
      return ctx.prisma.segment.findUnique({ ...query, where: { workspaceId_key: { workspaceId: principal.workspaceId, key: args.key } } });
    },
  }),
);

const SampleUserInput = builder.inputType('SampleUserInput', {
  fields: (t) => ({ id: t.id({ required: true }), attributes: t.field({ type: 'JSON' }) }),
});

builder.queryField('segmentMatches', (t) =>
  t.boolean({
    description: 'Whether a sample user matches a saved segment (`segmentKey`) or an unsaved `condition`',
    args: {
      user: t.arg({ type: SampleUserInput, required: true }),
      segmentKey: t.arg.string({ required: false }),
      condition: t.arg({ type: 'JSON', required: false }),
    },
    resolve: async (_root, args, ctx) => {
      const principal = requireRole(ctx, 'viewer');
      const user = parseInput(ZRuntimeUser, args.user, ['user']);
      let condition: TCondition;
      if (args.segmentKey) {
        const segment = await ctx.prisma.segment.findUnique({ where: { workspaceId_key: { workspaceId: principal.workspaceId, key: args.segmentKey } } });
        if (!segment) throw new NotFoundError('segment', args.segmentKey);
        condition = segment.condition as TCondition;
      } else if (args.condition != null) {
        condition = parseInput(ZCondition, args.condition, ['condition']);
      } else {
        invalid('segmentKey', 'Give a segmentKey or a condition');
      }
      return evalCondition(evaluationAttributes({ id: String(user.id), attributes: user.attributes }), condition);
    },
  }),
);

const SegmentInput = builder.inputType('SegmentInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    name: t.string({ required: true }),
    condition: t.field({ type: 'JSON', required: true }),
  }),
});
const UpdateSegmentInput = builder.inputType('UpdateSegmentInput', {
  fields: (t) => ({ name: t.string(), condition: t.field({ type: 'JSON' }) }),
});

builder.mutationField('createSegment', (t) =>
  t.prismaField({
    type: 'Segment',
    errors: { types: WRITE_ERRORS },
    args: { input: t.arg({ type: SegmentInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const principal = requireRole(ctx, 'editor');
      const input = parseInput(ZSegmentInput, args.input);
      const id = await ctx.prisma.$transaction(async (tx) => {
        const taken = await tx.segment.findUnique({ where: { workspaceId_key: { workspaceId: principal.workspaceId, key: input.key } } });
        if (taken) invalid('key', `A segment "${input.key}" already exists`);
        const segment = await tx.segment.create({
          data: { workspaceId: principal.workspaceId, key: input.key, name: input.name, condition: input.condition as Prisma.InputJsonObject },
        });
        await recordAudit(tx, { workspaceId: principal.workspaceId, actor: principal.actor, action: 'segment.create', targetType: 'segment', targetId: segment.id, data: { key: input.key } });
        return segment.id;
      });
      return ctx.prisma.segment.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

builder.mutationField('updateSegment', (t) =>
  t.prismaField({
    type: 'Segment',
    description: 'Takes effect at once for every flow that targets the segment',
    errors: { types: WRITE_ERRORS },
    args: { key: t.arg.string({ required: true }), input: t.arg({ type: UpdateSegmentInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const principal = requireRole(ctx, 'editor');
      const input = parseInput(ZSegmentUpdateInput, withoutNulls(args.input));
      const id = await ctx.prisma.$transaction(async (tx) => {
        const segment = await tx.segment.findUnique({ where: { workspaceId_key: { workspaceId: principal.workspaceId, key: args.key } } });
        if (!segment) throw new NotFoundError('segment', args.key);
        await tx.segment.update({
          where: { id: segment.id },
          data: { name: input.name, condition: input.condition as Prisma.InputJsonObject | undefined },
        });
        await recordAudit(tx, { workspaceId: principal.workspaceId, actor: principal.actor, action: 'segment.update', targetType: 'segment', targetId: segment.id, data: { key: args.key } });
        return segment.id;
      });
      await ctx.services.bus.publish({ type: 'content', workspaceId: principal.workspaceId });
      return ctx.prisma.segment.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

builder.mutationField('deleteSegment', (t) =>
  t.prismaField({
    type: 'Segment',
    description: 'Deletes a segment no flow targets; fails with CONFLICT naming the flows otherwise',
    errors: { types: WRITE_ERRORS_WITH_CONFLICT },
    args: { key: t.arg.string({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const principal = requireRole(ctx, 'editor');
      return ctx.prisma.$transaction(async (tx) => {
        const segment = await tx.segment.findUnique({
          where: { workspaceId_key: { workspaceId: principal.workspaceId, key: args.key } },
          include: { flows: { select: { key: true } } },
        });
        if (!segment) throw new NotFoundError('segment', args.key);
        if (segment.flows.length > 0) {
          throw new ConflictError(`Segment "${args.key}" is the audience of ${segment.flows.map((f) => f.key).join(', ')}; retarget them first`);
        }
        const deleted = await tx.segment.delete({ ...query, where: { id: segment.id } });
        await recordAudit(tx, { workspaceId: principal.workspaceId, actor: principal.actor, action: 'segment.delete', targetType: 'segment', targetId: segment.id, data: { key: args.key } });
        return deleted;
      });
    },
  }),
);
