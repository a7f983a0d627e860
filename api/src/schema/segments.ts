import { evalCondition, evaluationAttributes, ZCondition, ZRuntimeUser, ZSegmentInput, ZSegmentUpdateInput, type TCondition } from '@doorstep/schema';
import { builder } from '../builder.ts';
import { managementWrite } from '../domain/management-write.ts';
import { ConflictError, NotFoundError, ValidationError, invalid } from '../errors.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { graphqlInput } from '../validate.ts';
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
  t.withAuth({ viewer: true }).prismaField({
    skipTypeScopes: true,
    type: ['Segment'],
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.segment.findMany({ ...query, where: { workspaceId: ctx.principal.workspaceId }, orderBy: { key: 'asc' } }),
  }),
);

builder.queryField('segment', (t) =>
  t.withAuth({ viewer: true }).prismaField({
    skipTypeScopes: true,
    type: 'Segment',
    nullable: true,
    args: { key: t.arg.string({ required: true }) },
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.segment.findUnique({ ...query, where: { workspaceId_key: { workspaceId: ctx.principal.workspaceId, key: args.key } } }),
  }),
);

const SampleUserInput = builder.inputType('SampleUserInput', {
  fields: (t) => ({ id: t.id({ required: true }), attributes: t.field({ type: 'JSON' }) }),
});

builder.queryField('segmentMatches', (t) =>
  t.withAuth({ viewer: true }).boolean({
    skipTypeScopes: true,
    description: 'Whether a sample user matches a saved segment (`segmentKey`) or an unsaved `condition`',
    args: {
      user: t.arg({ type: SampleUserInput, required: true }).validate(ZRuntimeUser),
      segmentKey: t.arg.string({ required: false }),
      condition: t.arg({ type: 'JSON', required: false }).validate(ZCondition.nullish()),
    },
    resolve: async (_root, { user, segmentKey, condition: unsaved }, ctx) => {
      let condition: TCondition;
      if (segmentKey) {
        const segment = await ctx.prisma.segment.findUnique({ where: { workspaceId_key: { workspaceId: ctx.principal.workspaceId, key: segmentKey } } });
        if (!segment) throw new NotFoundError('segment', segmentKey);
        condition = segment.condition;
      } else if (unsaved) {
        condition = unsaved;
      } else {
        invalid('segmentKey', 'Give a segmentKey or a condition');
      }
      return evalCondition(evaluationAttributes({ id: user.id, attributes: user.attributes }), condition);
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
  t.withAuth({ editor: true }).prismaField({
    skipTypeScopes: true,
    type: 'Segment',
    errors: { types: WRITE_ERRORS },
    args: { input: t.arg({ type: SegmentInput, required: true }).validate(graphqlInput(ZSegmentInput)) },
    resolve: async (query, _root, { input }, ctx) => {
      const id = await managementWrite(ctx, {
        onDuplicate: () => new ValidationError([{ path: 'key', message: `A segment "${input.key}" already exists` }]),
        change: async (tx, principal) => {
          const segment = await tx.segment.create({
            data: { workspaceId: principal.workspaceId, key: input.key, name: input.name, condition: input.condition },
          });
          return { value: segment.id, audit: { action: 'segment.create', targetType: 'segment', targetId: segment.id, data: { key: input.key } } };
        },
      });
      return ctx.prisma.segment.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

builder.mutationField('updateSegment', (t) =>
  t.withAuth({ editor: true }).prismaField({
    skipTypeScopes: true,
    type: 'Segment',
    description: 'Takes effect at once for every flow that targets the segment',
    errors: { types: WRITE_ERRORS },
    args: {
      key: t.arg.string({ required: true }),
      input: t.arg({ type: UpdateSegmentInput, required: true }).validate(graphqlInput(ZSegmentUpdateInput)),
    },
    resolve: async (query, _root, { key, input }, ctx) => {
      const id = await managementWrite(ctx, {
        notify: { type: 'content', workspaceId: ctx.principal.workspaceId },
        change: async (tx, principal) => {
          const segment = await findSegmentOrThrow(tx, principal.workspaceId, key);
          await tx.segment.update({ where: { id: segment.id }, data: { name: input.name, condition: input.condition } });
          return { value: segment.id, audit: { action: 'segment.update', targetType: 'segment', targetId: segment.id, data: { key } } };
        },
      });
      return ctx.prisma.segment.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

builder.mutationField('deleteSegment', (t) =>
  t.withAuth({ editor: true }).prismaField({
    skipTypeScopes: true,
    type: 'Segment',
    description: 'Deletes a segment no flow targets; fails with CONFLICT naming the flows otherwise',
    errors: { types: WRITE_ERRORS_WITH_CONFLICT },
    args: { key: t.arg.string({ required: true }) },
    resolve: (query, _root, { key }, ctx) =>
      managementWrite(ctx, {
        change: async (tx, principal) => {
          // Waits for flows being pointed at the segment (audienceColumns), so the flows read below include them.
          await tx.$queryRaw`SELECT id FROM "Segment" WHERE "workspaceId" = ${principal.workspaceId}::uuid AND key = ${key} FOR UPDATE`;
          const segment = await tx.segment.findUnique({
            where: { workspaceId_key: { workspaceId: principal.workspaceId, key } },
            include: { flows: { select: { key: true } } },
          });
          if (!segment) throw new NotFoundError('segment', key);
          if (segment.flows.length > 0) {
            throw new ConflictError(`Segment "${key}" is the audience of ${segment.flows.map((f) => f.key).join(', ')}; retarget them first`);
          }
          const deleted = await tx.segment.delete({ ...query, where: { id: segment.id } });
          return { value: deleted, audit: { action: 'segment.delete', targetType: 'segment', targetId: segment.id, data: { key } } };
        },
      }),
  }),
);

async function findSegmentOrThrow(tx: Prisma.TransactionClient, workspaceId: string, key: string) {
  const segment = await tx.segment.findUnique({ where: { workspaceId_key: { workspaceId, key } } });
  if (!segment) throw new NotFoundError('segment', key);
  return segment;
}
