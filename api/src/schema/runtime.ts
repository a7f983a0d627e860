import {
  MAIN_PLACEMENT, MAX_PLACEMENTS_PER_REQUEST, ZLocale, ZPlacementKey, ZPlacementKeys, ZRuntimeUser, type TFlowDecision, type TResolvedOnboarding,
} from '@doorstep/schema';
import { mayActAs, unverifiedUser } from '../auth/identity.ts';
import { builder } from '../builder.ts';
import { explainServe, serveOnboarding, serveOnboardings } from '../runtime/serve-onboarding.ts';

type TR = TResolvedOnboarding;

const Cta = builder.objectRef<NonNullable<TR['welcome']['primaryCta']>>('CallToAction').implement({
  fields: (t) => ({
    label: t.exposeString('label'),
    url: t.exposeString('url', { nullable: true }),
    event: t.exposeString('event', { nullable: true, description: 'Event to track when the call to action is used' }),
  }),
});

const Media = builder.objectRef<NonNullable<TR['welcome']['media']>>('Media').implement({
  fields: (t) => ({ kind: t.exposeString('kind'), url: t.exposeString('url'), alt: t.exposeString('alt') }),
});

const Welcome = builder.objectRef<TR['welcome']>('Welcome').implement({
  fields: (t) => ({
    title: t.exposeString('title'),
    body: t.exposeString('body', { description: 'Markdown (safe subset)' }),
    bodyHtml: t.exposeString('bodyHtml', { description: 'The body rendered to HTML, raw HTML escaped and unsafe links dropped' }),
    media: t.field({ type: Media, nullable: true, resolve: (w) => w.media }),
    primaryCta: t.field({ type: Cta, nullable: true, resolve: (w) => w.primaryCta }),
    secondaryCta: t.field({ type: Cta, nullable: true, resolve: (w) => w.secondaryCta }),
  }),
});

const Step = builder.objectRef<TR['steps'][number]>('Step').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.exposeString('kind'),
    title: t.exposeString('title'),
    body: t.exposeString('body'),
    bodyHtml: t.exposeString('bodyHtml'),
    cta: t.field({ type: Cta, nullable: true, resolve: (s) => s.cta }),
    questionIds: t.exposeStringList('questionIds'),
    completionEvent: t.exposeString('completionEvent', { nullable: true }),
    skippable: t.exposeBoolean('skippable'),
  }),
});

const QuestionOption = builder.objectRef<TR['questions'][number]['options'][number]>('QuestionOption').implement({
  fields: (t) => ({ value: t.exposeString('value'), label: t.exposeString('label') }),
});

const Question = builder.objectRef<TR['questions'][number]>('Question').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    prompt: t.exposeString('prompt'),
    kind: t.exposeString('kind'),
    attribute: t.exposeString('attribute', { description: 'The user attribute an answer sets' }),
    required: t.exposeBoolean('required'),
    options: t.field({ type: [QuestionOption], resolve: (q) => q.options }),
    min: t.exposeFloat('min', { nullable: true }),
    max: t.exposeFloat('max', { nullable: true }),
  }),
});

const ChecklistItem = builder.objectRef<NonNullable<TR['checklist']>['items'][number]>('ChecklistItem').implement({
  fields: (t) => ({ id: t.exposeID('id'), label: t.exposeString('label'), completionEvent: t.exposeString('completionEvent') }),
});
const Checklist = builder.objectRef<NonNullable<TR['checklist']>>('Checklist').implement({
  fields: (t) => ({ title: t.exposeString('title'), items: t.field({ type: [ChecklistItem], resolve: (c) => c.items }) }),
});

const Activation = builder.objectRef<TR['activation']>('Activation').implement({
  fields: (t) => ({ event: t.exposeString('event'), description: t.exposeString('description') }),
});

const Progress = builder.objectRef<TR['progress']>('Progress').implement({
  description: "The user's progress in the served flow, as the server derives it from tracked events",
  fields: (t) => ({
    started: t.exposeBoolean('started', { description: 'flow_started was tracked, or a completed or skipped step, an answer, flow_completed or flow_dismissed of this flow' }),
    completedStepIds: t.exposeStringList('completedStepIds', {
      description: "Steps done, in order: by step_completed or step_skipped, or by tracking a step's completion event",
    }),
    checkedItemIds: t.exposeStringList('checkedItemIds', { description: 'Checklist items ticked by tracking their completion events' }),
    completed: t.exposeBoolean('completed', {
      description: 'By flow_completed, or derived: the flow was started and every required step (not skippable, no show-if) is done',
    }),
    dismissed: t.exposeBoolean('dismissed', { description: 'By flow_dismissed' }),
  }),
});

const OnboardingFlow = builder.objectRef<TR['flow']>('OnboardingFlow').implement({
  fields: (t) => ({ key: t.exposeString('key'), name: t.exposeString('name') }),
});

const Onboarding = builder.objectRef<TR>('Onboarding').implement({
  description: 'The published flow a user should see now, localized, with their progress',
  fields: (t) => ({
    flow: t.field({ type: OnboardingFlow, resolve: (o) => o.flow }),
    placement: t.exposeString('placement', { description: 'Where it shows: main, banner, modal, checklist or a named inline slot' }),
    version: t.exposeInt('version'),
    variant: t.string({ nullable: true, description: 'The experiment variant served, when the user is in a running experiment', resolve: (o) => o.variant?.key ?? null }),
    locale: t.exposeString('locale', { description: 'The locale served, after fallback' }),
    welcome: t.field({ type: Welcome, resolve: (o) => o.welcome }),
    steps: t.field({ type: [Step], resolve: (o) => o.steps }),
    questions: t.field({ type: [Question], resolve: (o) => o.questions }),
    checklist: t.field({ type: Checklist, nullable: true, resolve: (o) => o.checklist }),
    activation: t.field({ type: Activation, resolve: (o) => o.activation }),
    progress: t.field({ type: Progress, resolve: (o) => o.progress }),
  }),
});

export const OnboardingUserInput = builder.inputType('OnboardingUserInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    attributes: t.field({ type: 'JSON', description: 'Attributes the app knows; answers to segmentation questions override them' }),
    hash: t.string({ description: "Hex HMAC-SHA256 of the id with the environment's identity secret, computed by the app's backend; required when identity verification is on" }),
  }),
});

/** Identity verification: with it on, only the app's backend can vouch for a user id (guests aside). */
function assertVerified(principal: { identitySecret: string | null }, user: { id: string; hash?: string | null }) {
  if (!mayActAs(principal.identitySecret, user.id, user.hash)) throw unverifiedUser();
}

builder.queryField('onboarding', (t) =>
  t.withAuth({ publicKey: true }).field({
    skipTypeScopes: true,
    type: Onboarding,
    nullable: true,
    description: 'Runtime (public key): the onboarding this user should get now in a placement (main by default), or null',
    args: {
      user: t.arg({ type: OnboardingUserInput, required: true }).validate(ZRuntimeUser),
      locale: t.arg.string({ required: false }).validate(ZLocale.nullish()),
      placement: t.arg.string({ required: false, description: 'Default main' }).validate(ZPlacementKey.nullish()),
    },
    resolve: async (_root, { user, locale, placement }, ctx) => {
      assertVerified(ctx.principal, user);
      return (await serveOnboarding(ctx.services, ctx.principal.environmentId, user, locale ?? null, placement ?? MAIN_PLACEMENT)).onboarding;
    },
  }),
);

builder.queryField('onboardings', (t) =>
  t.withAuth({ publicKey: true }).field({
    skipTypeScopes: true,
    type: [Onboarding],
    description: `Runtime (public key): what this user should get now in each placement named (every placement with a published flow when omitted; at most ${MAX_PLACEMENTS_PER_REQUEST}), each resolved by its own priorities and frequency caps; placements with nothing to show are left out`,
    args: {
      user: t.arg({ type: OnboardingUserInput, required: true }).validate(ZRuntimeUser),
      locale: t.arg.string({ required: false }).validate(ZLocale.nullish()),
      placements: t.arg.stringList({ required: false }).validate(ZPlacementKeys.nullish()),
    },
    resolve: async (_root, { user, locale, placements }, ctx) => {
      assertVerified(ctx.principal, user);
      return serveOnboardings(ctx.services, ctx.principal.environmentId, user, locale ?? null, placements ?? null);
    },
  }),
);

const FlowOutcome = builder.enumType('FlowOutcome', {
  description: 'Why a published flow was or was not served',
  values: {
    served: { description: 'This flow is the one served' },
    other_placement: { description: 'It shows in another placement (detail)' },
    stopped: { description: 'A finished flow of this placement ends onboarding here (detail)' },
    completed: { description: 'The user completed it' },
    dismissed: { description: 'The user dismissed it' },
    exited: { description: 'A publish ended it for the user' },
    audience: { description: 'The user does not match its audience (detail: the segment, if any)' },
    outranked: { description: 'A flow with a higher priority is served (detail)' },
    capped: { description: "The placement's frequency cap is reached (detail)" },
    cooling_off: { description: 'The user dismissed a flow here recently (detail)' },
  } as const,
});

const FlowDecision = builder.objectRef<TFlowDecision>('FlowDecision').implement({
  fields: (t) => ({
    flowKey: t.exposeString('flowKey'),
    name: t.exposeString('name'),
    placement: t.exposeString('placement'),
    outcome: t.field({ type: FlowOutcome, resolve: (d) => d.outcome.replace('-', '_') as 'served' }),
    detail: t.exposeString('detail', { nullable: true }),
  }),
});

type TExplanation = { environment: { key: string; name: string }; placement: string; onboarding: TR | null; decisions: TFlowDecision[] };
const OnboardingExplanation = builder.objectRef<TExplanation>('OnboardingExplanation').implement({
  description: "Why a user gets what they get in a placement: the debug view's data. Names flows and segments, never their conditions or content",
  fields: (t) => ({
    environmentKey: t.string({ resolve: (e) => e.environment.key }),
    environmentName: t.string({ resolve: (e) => e.environment.name }),
    placement: t.exposeString('placement'),
    flowKey: t.string({ nullable: true, resolve: (e) => e.onboarding?.flow.key ?? null }),
    version: t.int({ nullable: true, resolve: (e) => e.onboarding?.version ?? null }),
    variant: t.string({ nullable: true, resolve: (e) => e.onboarding?.variant?.key ?? null }),
    decisions: t.field({ type: [FlowDecision], description: 'Every published flow, in priority order', resolve: (e) => e.decisions }),
  }),
});

builder.queryField('explainOnboarding', (t) =>
  t.withAuth({ publicKey: true }).field({
    skipTypeScopes: true,
    type: OnboardingExplanation,
    description: 'Runtime (public key): why this user is served what they are in a placement; records nothing',
    args: {
      user: t.arg({ type: OnboardingUserInput, required: true }).validate(ZRuntimeUser),
      locale: t.arg.string({ required: false }).validate(ZLocale.nullish()),
      placement: t.arg.string({ required: false, description: 'Default main' }).validate(ZPlacementKey.nullish()),
    },
    resolve: async (_root, { user, locale, placement }, ctx) => {
      assertVerified(ctx.principal, user);
      const chosen = placement ?? MAIN_PLACEMENT;
      const { onboarding, decisions, snapshot } = await explainServe(ctx.services, ctx.principal.environmentId, user, locale ?? null, chosen);
      return { environment: { key: snapshot.environmentKey, name: snapshot.environmentName }, placement: chosen, onboarding, decisions };
    },
  }),
);
