import { z } from 'zod';
import { builder } from '../builder.ts';

const MAX_PAGE = 200;
const ZPageSize = z.number().int().min(1).max(MAX_PAGE, `Pages hold at most ${MAX_PAGE} entries`).nullish();
/** Pothos would silently cut a larger page to `maxSize`; asking for more is a mistake worth saying. */
const ZPageArgs = z.looseObject({ first: ZPageSize, last: ZPageSize });

builder.prismaObject('AuditEntry', {
  fields: (t) => ({
    id: t.exposeID('id'),
    actor: t.exposeString('actor'),
    action: t.exposeString('action', { description: 'Such as flow.publish or segment.update' }),
    targetType: t.exposeString('targetType'),
    targetId: t.exposeString('targetId', { nullable: true }),
    data: t.expose('data', { type: 'JSON' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('auditLog', (t) =>
  t.withAuth({ viewer: true }).prismaConnection(
    {
      skipTypeScopes: true,
      type: 'AuditEntry',
      description: 'Newest first. Entries written in one change share a timestamp, so pages are cut on (createdAt, id)',
      // Ordered by (createdAt, id); Prisma's cursor on the unique id resumes after that exact entry.
      cursor: 'id',
      defaultSize: 50,
      maxSize: MAX_PAGE,
      validate: ZPageArgs,
      args: {
        action: t.arg.string({ required: false, description: 'Exact action, or a prefix ending in "." such as "flow."' }),
        targetType: t.arg.string({ required: false }),
      },
      resolve: (query, _root, args, ctx) => {
        const action = args.action ?? undefined;
        return ctx.prisma.auditEntry.findMany({
          ...query,
          where: {
            workspaceId: ctx.principal.workspaceId,
            ...(action ? { action: action.endsWith('.') ? { startsWith: action } : action } : {}),
            ...(args.targetType ? { targetType: args.targetType } : {}),
          },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        });
      },
    },
    { name: 'AuditEntryConnection' },
    { name: 'AuditEntryEdge' },
  ),
);
