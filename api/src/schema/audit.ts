import { builder } from '../builder.ts';
import { requireRole } from '../auth/guards.ts';
import { invalid } from '../errors.ts';

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
  t.prismaField({
    type: ['AuditEntry'],
    description: 'Newest first; page with `before` set to the last entry\'s createdAt',
    args: {
      limit: t.arg.int({ required: false, defaultValue: 50 }),
      before: t.arg({ type: 'DateTime', required: false }),
      action: t.arg.string({ required: false, description: 'Exact action, or a prefix ending in "." such as "flow."' }),
      targetType: t.arg.string({ required: false }),
    },
    resolve: (query, _root, args, ctx) => {
      const principal = requireRole(ctx, 'viewer');
      const limit = args.limit ?? 50;
      if (limit < 1 || limit > 200) invalid('limit', 'Choose a limit from 1 to 200');
      const action = args.action ?? undefined;
      return ctx.prisma.auditEntry.findMany({
        ...query,
        where: {
          workspaceId: principal.workspaceId,
          ...(args.before ? { createdAt: { lt: args.before } } : {}),
          ...(action ? { action: action.endsWith('.') ? { startsWith: action } : action } : {}),
          ...(args.targetType ? { targetType: args.targetType } : {}),
        },
        orderBy: { createdAt: 'desc' },
        take: limit,
      });
    },
  }),
);
