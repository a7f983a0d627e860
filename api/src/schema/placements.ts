import { ZPlacementInput, ZPlacementKey } from '@doorstep/schema';
import { builder } from '../builder.ts';
import { managementWrite } from '../domain/management-write.ts';
import { NotFoundError } from '../errors.ts';
import { graphqlInput } from '../validate.ts';
import { WRITE_ERRORS } from './errors.ts';

builder.prismaObject('Placement', {
  description: 'Frequency caps of a placement; a placement without caps needs no entry',
  fields: (t) => ({
    key: t.exposeString('key'),
    name: t.exposeString('name'),
    maxShows: t.exposeInt('maxShows', { nullable: true, description: 'At most this many flows a user has not seen before, per window; null for no cap' }),
    windowHours: t.exposeInt('windowHours', { description: 'The window maxShows counts in: 24 for a day, 168 for a week' }),
    cooloffHours: t.exposeInt('cooloffHours', { nullable: true, description: 'No new flow for this long after the user dismisses one here; null for none' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryField('placements', (t) =>
  t.withAuth({ viewer: true }).prismaField({
    skipTypeScopes: true,
    type: ['Placement'],
    resolve: (query, _root, _args, ctx) => ctx.prisma.placement.findMany({ ...query, where: { workspaceId: ctx.principal.workspaceId }, orderBy: { key: 'asc' } }),
  }),
);

const PlacementInput = builder.inputType('PlacementInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    name: t.string({ required: true }),
    maxShows: t.int(),
    windowHours: t.int({ description: 'Default 24' }),
    cooloffHours: t.int(),
  }),
});

builder.mutationField('savePlacement', (t) =>
  t.withAuth({ editor: true }).prismaField({
    skipTypeScopes: true,
    type: 'Placement',
    description: "Sets a placement's frequency caps (creating its entry); takes effect at once in every environment",
    errors: { types: WRITE_ERRORS },
    args: { input: t.arg({ type: PlacementInput, required: true }).validate(graphqlInput(ZPlacementInput)) },
    resolve: async (query, _root, { input }, ctx) => {
      const id = await managementWrite(ctx, {
        notify: { type: 'content', workspaceId: ctx.principal.workspaceId },
        change: async (tx, principal) => {
          const { key, ...caps } = input;
          const placement = await tx.placement.upsert({
            where: { workspaceId_key: { workspaceId: principal.workspaceId, key } },
            create: { workspaceId: principal.workspaceId, key, ...caps },
            update: caps,
          });
          return { value: placement.id, audit: { action: 'placement.save', targetType: 'placement', targetId: placement.id, data: input } };
        },
      });
      return ctx.prisma.placement.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

builder.mutationField('deletePlacement', (t) =>
  t.withAuth({ editor: true }).prismaField({
    skipTypeScopes: true,
    type: 'Placement',
    description: "Removes a placement's caps; its flows keep showing, without caps",
    errors: { types: WRITE_ERRORS },
    args: { key: t.arg.string({ required: true }).validate(ZPlacementKey) },
    resolve: (query, _root, { key }, ctx) =>
      managementWrite(ctx, {
        notify: { type: 'content', workspaceId: ctx.principal.workspaceId },
        change: async (tx, principal) => {
          const placement = await tx.placement.findUnique({ where: { workspaceId_key: { workspaceId: principal.workspaceId, key } } });
          if (!placement) throw new NotFoundError('placement', key);
          const deleted = await tx.placement.delete({ ...query, where: { id: placement.id } });
          return { value: deleted, audit: { action: 'placement.delete', targetType: 'placement', targetId: placement.id, data: { key } } };
        },
      }),
  }),
);
