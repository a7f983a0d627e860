import { ZEventName } from '@doorstep/schema';
import { z } from 'zod';
import { builder } from '../builder.ts';
import type { TContext } from '../context.ts';
import { flowAnalytics, type TFlowAnalytics } from '../domain/flow-analytics.ts';
import { findEnvironmentOrThrow, findFlowOrThrow } from '../domain/flows.ts';
import { NotFoundError, invalid } from '../errors.ts';
import { graphqlInput } from '../validate.ts';

const ZMilestones = z.array(graphqlInput(z.object({
  name: z.string().trim().min(1).max(60),
  event: ZEventName,
  count: z.number().int().min(1).max(1000).default(1),
  withinHours: z.number().int().min(1).max(24 * 90).nullish().transform((v) => v ?? null),
}))).max(5).nullish().transform((m) => m ?? []);

const Analytics = builder.objectRef<TFlowAnalytics>('FlowAnalytics').implement({
  fields: (t) => ({
    starts: t.exposeInt('starts', { description: 'Users whose first flow_started falls in the range' }),
    completions: t.exposeInt('completions'),
    completionRate: t.exposeFloat('completionRate'),
    activated: t.exposeInt('activated', { description: "Starters who tracked the flow's activation event after starting" }),
    activationRate: t.exposeFloat('activationRate'),
    exited: t.exposeInt('exited', { description: 'Starters whose flow a publish or rollback with `exit` ended before they finished' }),
    versions: t.field({
      description: 'By the version each user started: what each version did',
      type: [builder.objectRef<TFlowAnalytics['versions'][number]>('FlowVersionBreakdown').implement({
        fields: (f) => ({
          version: f.exposeInt('version', { nullable: true, description: 'Null for starts recorded before versions were tracked' }),
          starts: f.exposeInt('starts'), completions: f.exposeInt('completions'),
          activated: f.exposeInt('activated'), activationRate: f.exposeFloat('activationRate'),
        }),
      })],
      resolve: (a) => a.versions,
    }),
    timeToActivationP50Seconds: t.exposeFloat('timeToActivationP50Seconds', { nullable: true }),
    timeToActivationP90Seconds: t.exposeFloat('timeToActivationP90Seconds', { nullable: true }),
    funnel: t.field({
      type: [builder.objectRef<TFlowAnalytics['funnel'][number]>('FlowFunnelStep').implement({
        fields: (f) => ({ stepId: f.exposeString('stepId'), viewed: f.exposeInt('viewed'), completed: f.exposeInt('completed'), dropOff: f.exposeInt('dropOff') }),
      })],
      resolve: (a) => a.funnel,
    }),
    milestones: t.field({
      type: [builder.objectRef<TFlowAnalytics['milestones'][number]>('MilestoneResult').implement({
        fields: (f) => ({ name: f.exposeString('name'), reached: f.exposeInt('reached'), rate: f.exposeFloat('rate') }),
      })],
      resolve: (a) => a.milestones,
    }),
    segments: t.field({
      description: 'By the segments users matched when first served the flow',
      type: [builder.objectRef<TFlowAnalytics['segments'][number]>('FlowSegmentBreakdown').implement({
        fields: (f) => ({
          segmentKey: f.exposeString('segmentKey'), starts: f.exposeInt('starts'), completions: f.exposeInt('completions'),
          activated: f.exposeInt('activated'), activationRate: f.exposeFloat('activationRate'),
        }),
      })],
      resolve: (a) => a.segments,
    }),
  }),
});

const MilestoneInput = builder.inputType('MilestoneInput', {
  fields: (t) => ({ name: t.string({ required: true }), event: t.string({ required: true }), count: t.int(), withinHours: t.int() }),
});

builder.queryField('flowAnalytics', (t) =>
  t.withAuth({ viewer: true }).field({
    skipTypeScopes: true,
    type: Analytics,
    description: 'How a flow performs in one environment for users who started it in [from, to)',
    args: {
      flowKey: t.arg.string({ required: true }),
      environmentKey: t.arg.string({ required: true }),
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      milestones: t.arg({ type: [MilestoneInput], required: false, description: 'Setup, aha, habit…: a funnel in this order' }).validate(ZMilestones),
      version: t.arg.int({ required: false, description: 'Only users who started this version, and its funnel; the steps are that version’s' }),
    },
    resolve: async (_root, args, ctx) => {
      const { workspaceId } = ctx.principal;
      if (args.from >= args.to) invalid('to', 'The range must end after it starts');
      const flow = await findFlowOrThrow(ctx.prisma, workspaceId, args.flowKey);
      const environment = await findEnvironmentOrThrow(ctx.prisma, workspaceId, args.environmentKey);
      const content = args.version == null ? await analysedContent(ctx.prisma, flow, environment.id) : await versionContent(ctx.prisma, flow.id, args.version);
      return flowAnalytics(ctx.prisma, {
        environmentId: environment.id, flowKey: flow.key, activationEvent: content.activation.event, stepIds: content.steps.map((s) => s.id),
        // The validation plugin leaves an omitted argument undefined, whatever its schema says.
        from: args.from, to: args.to, milestones: args.milestones ?? [], version: args.version ?? null,
      });
    },
  }),
);

/** The content whose steps and activation event a flow's analytics use: the released version's, or the draft's before any publish. */
async function analysedContent(db: TContext['prisma'], flow: { id: string; key: string }, environmentId: string) {
  const release = await db.flowRelease.findUnique({ where: { flowId_environmentId: { flowId: flow.id, environmentId } }, include: { version: true } });
  const content = release?.version.content ?? (await db.flowDraft.findUnique({ where: { flowId: flow.id } }))?.content;
  if (!content) throw new NotFoundError('published version or draft of flow', flow.key);
  return content;
}

async function versionContent(db: TContext['prisma'], flowId: string, number: number) {
  const version = await db.flowVersion.findUnique({ where: { flowId_number: { flowId, number } } });
  if (!version) throw new NotFoundError('version', String(number));
  return version.content;
}
