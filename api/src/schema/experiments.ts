import { ZExperimentInput, ZExperimentWeightsInput, type TStoredVariant } from '@doorstep/schema';
import { z } from 'zod';
import { builder } from '../builder.ts';
import type { TManagementPrincipal } from '../auth/principal.ts';
import type { TContext } from '../context.ts';
import { experimentResults, type TExperimentResults, type TVariantResult } from '../domain/experiment-results.ts';
import { findEnvironmentOrThrow, findFlowOrThrow } from '../domain/flows.ts';
import { managementWrite, type TAuditFact } from '../domain/management-write.ts';
import { keepInFlightUsers, publishVersion } from '../domain/publishing.ts';
import { ConflictError, NotFoundError, ValidationError, invalid } from '../errors.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { graphqlInput } from '../validate.ts';
import { WRITE_ERRORS, WRITE_ERRORS_WITH_CONFLICT } from './errors.ts';

const ExperimentStatus = builder.enumType('ExperimentStatus', { values: ['draft', 'running', 'stopped'] as const });

const Variant = builder.objectRef<TStoredVariant>('ExperimentVariant').implement({
  fields: (t) => ({ key: t.exposeString('key'), versionNumber: t.exposeInt('versionNumber'), weight: t.exposeFloat('weight') }),
});

const VariantResult = builder.objectRef<TVariantResult>('VariantResult').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    versionNumber: t.exposeInt('versionNumber'),
    weight: t.exposeFloat('weight'),
    exposed: t.exposeInt('exposed'),
    activated: t.exposeInt('activated'),
    activationRate: t.exposeFloat('activationRate'),
    intervalLow: t.float({ description: 'Wilson 95% interval of the activation rate', resolve: (r) => r.interval[0] }),
    intervalHigh: t.float({ resolve: (r) => r.interval[1] }),
    uplift: t.exposeFloat('uplift', { nullable: true, description: 'Relative to the control; null for the control' }),
    chanceToBeatControl: t.exposeFloat('chanceToBeatControl', { nullable: true }),
    pValue: t.exposeFloat('pValue', { nullable: true, description: 'Two-sided, pooled two-proportion z-test against the control' }),
    timeToActivationP50Seconds: t.exposeFloat('timeToActivationP50Seconds', { nullable: true }),
    timeToActivationP90Seconds: t.exposeFloat('timeToActivationP90Seconds', { nullable: true }),
  }),
});

const FunnelStep = builder.objectRef<TExperimentResults['funnel'][number]>('VariantFunnelStep').implement({
  fields: (t) => ({
    variantKey: t.exposeString('variantKey'), stepId: t.exposeString('stepId'), viewed: t.exposeInt('viewed'), completed: t.exposeInt('completed'),
    dropOff: t.int({ description: 'Viewed the step but did not complete it', resolve: (s) => Math.max(0, s.viewed - s.completed) }),
  }),
});
const SegmentBreakdown = builder.objectRef<TExperimentResults['segments'][number]>('VariantSegmentBreakdown').implement({
  fields: (t) => ({ segmentKey: t.exposeString('segmentKey'), variantKey: t.exposeString('variantKey'), exposed: t.exposeInt('exposed'), activated: t.exposeInt('activated') }),
});
const TimeBucket = builder.objectRef<TExperimentResults['timeToActivation'][number]>('TimeToActivationBucket').implement({
  fields: (t) => ({
    variantKey: t.exposeString('variantKey'),
    upToSeconds: t.exposeInt('upToSeconds', { nullable: true, description: 'Upper bound of the bucket; null for the open-ended last one' }),
    users: t.exposeInt('users'),
  }),
});
const Results = builder.objectRef<TExperimentResults>('ExperimentResults').implement({
  fields: (t) => ({
    variants: t.field({ type: [VariantResult], resolve: (r) => r.variants }),
    timeToActivation: t.field({ type: [TimeBucket], resolve: (r) => r.timeToActivation }),
    funnel: t.field({ type: [FunnelStep], resolve: (r) => r.funnel }),
    segments: t.field({ type: [SegmentBreakdown], resolve: (r) => r.segments }),
    srmPValue: t.exposeFloat('srmPValue', { description: 'Chi-square test of the split against the weights; below 0.001 is a warning' }),
    warnings: t.exposeStringList('warnings'),
  }),
});

builder.prismaObject('Experiment', {
  fields: (t) => ({
    id: t.exposeID('id'),
    key: t.exposeString('key'),
    name: t.exposeString('name'),
    status: t.expose('status', { type: ExperimentStatus }),
    flow: t.relation('flow'),
    environment: t.relation('environment'),
    variants: t.field({ type: [Variant], resolve: (e) => e.variants }),
    coverage: t.exposeFloat('coverage'),
    seed: t.exposeString('seed'),
    hashAttribute: t.exposeString('hashAttribute'),
    fallbackAttribute: t.exposeString('fallbackAttribute', { nullable: true }),
    namespace: t.expose('namespace', { type: 'JSON', nullable: true }),
    activationWindowHours: t.exposeInt('activationWindowHours', { nullable: true }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    stoppedAt: t.expose('stoppedAt', { type: 'DateTime', nullable: true }),
    winnerVariantKey: t.exposeString('winnerVariantKey', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    createdBy: t.exposeString('createdBy'),
    results: t.field({
      type: Results,
      description: "Activation is the control version's activation event",
      select: { flow: { select: { key: true } } },
      resolve: async (e, _args, ctx) => {
        const control = await ctx.prisma.flowVersion.findUniqueOrThrow({ where: { flowId_number: { flowId: e.flowId, number: e.variants[0].versionNumber } } });
        return experimentResults(ctx.prisma, {
          id: e.id, environmentId: e.environmentId, variants: e.variants, flowKey: e.flow.key,
          activationEvent: control.content.activation.event, activationWindowHours: e.activationWindowHours,
        });
      },
    }),
  }),
});

builder.queryField('experiments', (t) =>
  t.withAuth({ viewer: true }).prismaField({
    skipTypeScopes: true,
    type: ['Experiment'],
    args: { flowKey: t.arg.string({ required: false }) },
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.experiment.findMany({
        ...query,
        where: { workspaceId: ctx.principal.workspaceId, ...(args.flowKey ? { flow: { key: args.flowKey } } : {}) },
        orderBy: { createdAt: 'desc' },
      }),
  }),
);

builder.queryField('experiment', (t) =>
  t.withAuth({ viewer: true }).prismaField({
    skipTypeScopes: true,
    type: 'Experiment',
    nullable: true,
    args: { key: t.arg.string({ required: true }) },
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.experiment.findUnique({ ...query, where: { workspaceId_key: { workspaceId: ctx.principal.workspaceId, key: args.key } } }),
  }),
);

const VariantInput = builder.inputType('ExperimentVariantInput', {
  fields: (t) => ({ key: t.string({ required: true }), versionNumber: t.int({ required: true }), weight: t.float({ required: true }) }),
});
const NamespaceInput = builder.inputType('ExperimentNamespaceInput', {
  fields: (t) => ({ id: t.string({ required: true }), start: t.float({ required: true }), end: t.float({ required: true }) }),
});
const CreateExperimentInput = builder.inputType('CreateExperimentInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    name: t.string({ required: true }),
    flowKey: t.string({ required: true }),
    environmentKey: t.string({ required: true }),
    variants: t.field({ type: [VariantInput], required: true, description: 'The first is the control' }),
    coverage: t.float(),
    seed: t.string(),
    hashAttribute: t.string(),
    fallbackAttribute: t.string(),
    namespace: t.field({ type: NamespaceInput }),
    activationWindowHours: t.int(),
  }),
});
const WeightInput = builder.inputType('ExperimentWeightInput', {
  fields: (t) => ({ key: t.string({ required: true }), weight: t.float({ required: true }) }),
});

async function findExperimentOrThrow(tx: Prisma.TransactionClient, workspaceId: string, key: string) {
  const experiment = await tx.experiment.findUnique({ where: { workspaceId_key: { workspaceId, key } } });
  if (!experiment) throw new NotFoundError('experiment', key);
  return experiment;
}

type TExperimentRow = Awaited<ReturnType<typeof findExperimentOrThrow>>;

/** A publisher's change to an existing experiment; audited as `action`, and served at once everywhere. */
function changeExperiment(
  ctx: TContext & { principal: TManagementPrincipal }, key: string, action: string,
  change: (tx: Prisma.TransactionClient, experiment: TExperimentRow, principal: TManagementPrincipal) => Promise<TAuditFact[] | void>,
  onDuplicate?: () => Error,
) {
  return managementWrite(ctx, {
    notify: { type: 'content', workspaceId: ctx.principal.workspaceId },
    onDuplicate,
    change: async (tx, principal) => {
      const experiment = await findExperimentOrThrow(tx, principal.workspaceId, key);
      const alsoAudited = (await change(tx, experiment, principal)) ?? [];
      return { value: experiment.id, audit: [{ action, targetType: 'experiment', targetId: experiment.id, data: { key } }, ...alsoAudited] };
    },
  });
}

builder.mutationField('createExperiment', (t) =>
  t.withAuth({ editor: true }).prismaField({
    skipTypeScopes: true,
    type: 'Experiment',
    description: 'Creates a draft experiment; a publisher launches it',
    errors: { types: WRITE_ERRORS },
    args: { input: t.arg({ type: CreateExperimentInput, required: true }).validate(graphqlInput(ZExperimentInput)) },
    resolve: async (query, _root, { input }, ctx) => {
      const id = await managementWrite(ctx, {
        onDuplicate: () => new ValidationError([{ path: 'key', message: `An experiment "${input.key}" already exists` }]),
        change: async (tx, principal) => {
          const flow = await findFlowOrThrow(tx, principal.workspaceId, input.flowKey);
          const environment = await findEnvironmentOrThrow(tx, principal.workspaceId, input.environmentKey);
          const versions = await tx.flowVersion.findMany({ where: { flowId: flow.id }, select: { number: true } });
          input.variants.forEach((variant, index) => {
            if (!versions.some((v) => v.number === variant.versionNumber)) invalid(`variants.${index}.versionNumber`, `Flow "${flow.key}" has no version ${variant.versionNumber}`);
          });
          const experiment = await tx.experiment.create({
            data: {
              workspaceId: principal.workspaceId, flowId: flow.id, environmentId: environment.id, key: input.key, name: input.name,
              variants: input.variants, coverage: input.coverage, seed: input.seed ?? input.key, hashAttribute: input.hashAttribute,
              fallbackAttribute: input.fallbackAttribute ?? null,
              namespace: input.namespace ? [input.namespace.id, input.namespace.start, input.namespace.end] : undefined,
              activationWindowHours: input.activationWindowHours ?? null, createdBy: principal.actor,
            },
          });
          return { value: experiment.id, audit: { action: 'experiment.create', targetType: 'experiment', targetId: experiment.id, data: { key: input.key } } };
        },
      });
      return ctx.prisma.experiment.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

builder.mutationField('launchExperiment', (t) =>
  t.withAuth({ publisher: true }).prismaField({
    skipTypeScopes: true,
    type: 'Experiment',
    errors: { types: WRITE_ERRORS_WITH_CONFLICT },
    args: { key: t.arg.string({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const alreadyRunning = (name: string) => new ConflictError(`Experiment "${name}" already runs on this flow in this environment; stop it first`);
      const id = await changeExperiment(ctx, args.key, 'experiment.launch', async (tx, experiment) => {
        if (experiment.status !== 'draft') invalid('key', `Only a draft can be launched; this experiment is ${experiment.status}`);
        const release = await tx.flowRelease.findUnique({ where: { flowId_environmentId: { flowId: experiment.flowId, environmentId: experiment.environmentId } } });
        if (!release) invalid('key', 'Publish the flow to this environment before launching an experiment on it');
        const running = await tx.experiment.findFirst({ where: { flowId: experiment.flowId, environmentId: experiment.environmentId, status: 'running' } });
        if (running) throw alreadyRunning(running.key);
        await tx.experiment.update({ where: { id: experiment.id }, data: { status: 'running', startedAt: new Date() } });
      // Two launches at once both pass the check above; the database's one-running index refuses the second.
      }, () => alreadyRunning('another'));
      return ctx.prisma.experiment.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

builder.mutationField('updateExperimentWeights', (t) =>
  t.withAuth({ publisher: true }).prismaField({
    skipTypeScopes: true,
    type: 'Experiment',
    description: 'New weights apply to users not yet exposed; exposed users keep their variant',
    errors: { types: WRITE_ERRORS },
    args: t.validate(
      { key: t.arg.string({ required: true }), variants: t.arg({ type: [WeightInput], required: true }) },
      z.object({ key: z.string() }).and(ZExperimentWeightsInput),
    ),
    resolve: async (query, _root, input, ctx) => {
      const id = await changeExperiment(ctx, input.key, 'experiment.weights', async (tx, experiment) => {
        if (experiment.status === 'stopped') invalid('key', 'This experiment has stopped');
        const variants = experiment.variants;
        const keys = new Set(input.variants.map((v) => v.key));
        if (keys.size !== variants.length || variants.some((v) => !keys.has(v.key))) invalid('variants', `Give a weight for each of: ${variants.map((v) => v.key).join(', ')}`);
        const weights = new Map(input.variants.map((v) => [v.key, v.weight]));
        await tx.experiment.update({ where: { id: experiment.id }, data: { variants: variants.map((v) => ({ ...v, weight: weights.get(v.key) ?? v.weight })) } });
      });
      return ctx.prisma.experiment.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

builder.mutationField('stopExperiment', (t) =>
  t.withAuth({ publisher: true }).prismaField({
    skipTypeScopes: true,
    type: 'Experiment',
    errors: { types: WRITE_ERRORS },
    args: { key: t.arg.string({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const id = await changeExperiment(ctx, args.key, 'experiment.stop', async (tx, experiment) => {
        if (experiment.status !== 'running') invalid('key', `Only a running experiment can be stopped; this one is ${experiment.status}`);
        await tx.experiment.update({ where: { id: experiment.id }, data: { status: 'stopped', stoppedAt: new Date() } });
        await keepInFlightUsers(tx, experiment.flowId, experiment.environmentId);
      });
      return ctx.prisma.experiment.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

builder.mutationField('shipWinner', (t) =>
  t.withAuth({ publisher: true }).prismaField({
    skipTypeScopes: true,
    type: 'Experiment',
    description: "Publishes the chosen variant's version to the experiment's environment and stops the experiment",
    errors: { types: WRITE_ERRORS },
    args: { key: t.arg.string({ required: true }), variantKey: t.arg.string({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const id = await changeExperiment(ctx, args.key, 'experiment.ship', async (tx, experiment, principal) => {
        if (experiment.status === 'draft') invalid('key', 'Launch the experiment before shipping a winner');
        const winner = experiment.variants.find((v) => v.key === args.variantKey);
        if (!winner) invalid('variantKey', `No variant "${args.variantKey}" in this experiment`);
        // Stopped first, so that users mid-flow in a losing variant count as in flight and keep it.
        await tx.experiment.update({
          where: { id: experiment.id },
          data: { status: 'stopped', stoppedAt: experiment.stoppedAt ?? new Date(), winnerVariantKey: winner.key },
        });
        const { moved } = await publishVersion(tx, principal, experiment.flowId, experiment.environmentId, winner.versionNumber, 'keep');
        if (!moved) await keepInFlightUsers(tx, experiment.flowId, experiment.environmentId);
        return moved
          ? [{ action: 'flow.publish', targetType: 'flow', targetId: experiment.flowId, data: { environmentId: experiment.environmentId, version: winner.versionNumber } }]
          : [];
      });
      return ctx.prisma.experiment.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);
