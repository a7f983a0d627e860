import { z } from 'zod';
import { ZCondition } from './condition-schema.ts';
import { ZMarkdown } from './markdown.ts';
import { parseTemplate } from './personalize.ts';
import { storableString } from './text.ts';

export const MAX_STEPS = 20;
/** Past this many steps the studio warns: shorter paths activate better. */
export const RECOMMENDED_MAX_STEPS = 5;

export const ZSlug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'Use lowercase letters, digits, "-" and "_", starting with a letter or digit');
export const ZLocale = z
  .string()
  .max(35)
  .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'Use a BCP 47 locale such as "en" or "pt-BR"');
export const ZEventName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_.:-]*$/, 'Start with a letter; use letters, digits, "_", ".", ":" or "-"');
/** The lifecycle events the app sends about a flow (README, "Event lifecycle"); every other name is a product event. */
export const BUILT_IN_EVENTS = [
  'flow_started', 'step_viewed', 'step_completed', 'step_skipped', 'question_answered', 'flow_completed', 'flow_dismissed',
] as const;
const BUILT_IN = new Set<string>(BUILT_IN_EVENTS);
/** A product event a step or checklist item waits for: lifecycle events say what happened in the flow itself. */
const ZCompletionEvent = ZEventName.refine((name) => !BUILT_IN.has(name), 'Use a product event, such as dashboard_created: lifecycle events cannot complete a step');

export const ZAttributeName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'Use letters, digits and "_", with "." for nesting');

/**
 * Where a call to action may lead: an absolute http(s) URL, or a path on the app's own site. Not
 * `//host/x` or `/\\host/x`, which browsers read as another site, nor any other scheme (javascript:,
 * data:), nor whitespace or control characters, which browsers drop from the middle of a URL. A URL
 * with variables must pass both filled in (a value is one percent-encoded component) and with every
 * variable showing its fallback, which is written as it stands: `/{{team}}/x` with no team is `//x`.
 */
export function isSafeCtaUrl(url: string): boolean {
  const template = parseTemplate(url);
  if (!template) return isSafeTarget(url);
  const filled = template.map((part) => (typeof part === 'string' ? part : 'x')).join('');
  const fallen = template.map((part) => (typeof part === 'string' ? part : part.fallback ?? '')).join('');
  return isSafeTarget(filled) && isSafeTarget(fallen);
}

function isSafeTarget(url: string): boolean {
  if (/[\s\p{Cc}\\]/u.test(url)) return false;
  if (url.startsWith('/')) return !url.startsWith('//');
  // The host as written: the URL parser would read `https:///x` as the host x.
  if (!/^https?:\/\/[^/?#]/i.test(url)) return false;
  try {
    return new URL(url).hostname !== '';
  } catch {
    return false;
  }
}

const ZSafeUrl = storableString()
  .max(2000)
  .refine(isSafeCtaUrl, 'Use an absolute http(s) URL, or a path on your site starting with a single "/"');

const ZText = (max: number) => storableString().trim().min(1).max(max);

export const ZCallToAction = z.object({
  label: ZText(60),
  url: ZSafeUrl.optional(),
  event: ZEventName.optional(),
});

export const ZMedia = z.object({
  kind: z.enum(['image', 'video']),
  url: storableString().max(2000).regex(/^https:\/\/\S+$/, 'Media must be served over https'),
  alt: storableString().max(200).default(''),
});

export const ZWelcome = z.object({
  title: ZText(120),
  body: ZMarkdown.default(''),
  media: ZMedia.optional(),
  primaryCta: ZCallToAction.optional(),
  secondaryCta: ZCallToAction.optional(),
});

export const STEP_KINDS = ['info', 'questions', 'action', 'checklist'] as const;
export const ZStep = z.object({
  id: ZSlug,
  kind: z.enum(STEP_KINDS),
  title: ZText(120),
  body: ZMarkdown.default(''),
  cta: ZCallToAction.optional(),
  questionIds: z.array(ZSlug).max(10).default([]),
  completionEvent: ZCompletionEvent.optional(),
  skippable: z.boolean().default(false),
  showIf: ZCondition.optional(),
});

export const QUESTION_KINDS = ['single', 'multi', 'text', 'number', 'scale'] as const;
export const ZQuestionOption = z.object({
  value: storableString().min(1).max(64),
  label: ZText(120),
});
export const ZQuestion = z
  .object({
    id: ZSlug,
    prompt: ZText(200),
    kind: z.enum(QUESTION_KINDS),
    attribute: ZAttributeName,
    required: z.boolean().default(false),
    options: z.array(ZQuestionOption).max(20).default([]),
    min: z.number().finite().optional(),
    max: z.number().finite().optional(),
  })
  .superRefine((q, ctx) => {
    const needsOptions = q.kind === 'single' || q.kind === 'multi';
    if (needsOptions && q.options.length < 2) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: 'A choice question needs at least 2 options' });
    }
    if (!needsOptions && q.options.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: `A ${q.kind} question takes no options` });
    }
    addDuplicateIssues(q.options.map((o) => o.value), ['options'], 'value', 'option value', ctx);
    if (q.min !== undefined && q.max !== undefined && q.min > q.max) {
      ctx.addIssue({ code: 'custom', path: ['max'], message: 'max must not be below min' });
    }
  });

export const ZChecklistItem = z.object({
  id: ZSlug,
  label: ZText(120),
  completionEvent: ZCompletionEvent,
});
export const ZChecklist = z.object({
  title: ZText(120),
  items: z.array(ZChecklistItem).min(1).max(20),
});

export const ZActivation = z.object({
  event: ZEventName,
  description: storableString().max(300).default(''),
});

export const EMAIL_TRIGGERS = ['signed_up', 'flow_started', 'flow_abandoned', 'flow_completed', 'not_activated'] as const;
export const ZOnboardingEmail = z.object({
  id: ZSlug,
  trigger: z.enum(EMAIL_TRIGGERS),
  delayHours: z.number().int().min(0).max(24 * 60),
  subject: ZText(150),
  body: ZMarkdown.pipe(z.string().min(1)),
});

const ZCtaTranslation = z.object({ label: ZText(60) }).partial();
export const ZTranslation = z.object({
  welcome: z
    .object({ title: ZText(120), body: ZMarkdown, primaryCta: ZCtaTranslation, secondaryCta: ZCtaTranslation })
    .partial()
    .optional(),
  steps: z.record(ZSlug, z.object({ title: ZText(120), body: ZMarkdown, ctaLabel: ZText(60) }).partial()).optional(),
  questions: z
    .record(ZSlug, z.object({ prompt: ZText(200), options: z.record(storableString().max(64), ZText(120)) }).partial())
    .optional(),
  checklist: z
    .object({ title: ZText(120), items: z.record(ZSlug, ZText(120)) })
    .partial()
    .optional(),
  emails: z.record(ZSlug, z.object({ subject: ZText(150), body: ZMarkdown }).partial()).optional(),
});

/**
 * What a user who has finished this flow (completed or dismissed it) gets next: `stop` serves them
 * no other onboarding flow (one onboarding per user, the default: nobody meets a second welcome
 * after finishing the first); `next` lets the next matching flow by priority follow.
 */
export const AFTER_COMPLETION = ['stop', 'next'] as const;
export const ZAfterCompletion = z.enum(AFTER_COMPLETION);
export type TAfterCompletion = z.output<typeof ZAfterCompletion>;

export const ZFlowContent = z
  .object({
    /** The locale the content is written in; every other locale falls back to it. */
    defaultLocale: ZLocale.default('en'),
    welcome: ZWelcome,
    steps: z.array(ZStep).min(1).max(MAX_STEPS),
    questions: z.array(ZQuestion).max(20).default([]),
    checklist: ZChecklist.optional(),
    activation: ZActivation,
    emails: z.array(ZOnboardingEmail).max(10).default([]),
    translations: z.record(ZLocale, ZTranslation).default({}),
    afterCompletion: ZAfterCompletion.default('stop'),
  })
  .superRefine((content, ctx) => {
    addDuplicateIssues(content.steps.map((s) => s.id), ['steps'], 'id', 'step id', ctx);
    addDuplicateIssues(content.questions.map((q) => q.id), ['questions'], 'id', 'question id', ctx);
    addDuplicateIssues(content.emails.map((e) => e.id), ['emails'], 'id', 'email id', ctx);
    if (content.checklist) {
      addDuplicateIssues(content.checklist.items.map((i) => i.id), ['checklist', 'items'], 'id', 'item id', ctx);
    }
    const questionIds = new Set(content.questions.map((q) => q.id));
    content.steps.forEach((step, index) => {
      step.questionIds.forEach((id, qIndex) => {
        if (!questionIds.has(id)) {
          ctx.addIssue({ code: 'custom', path: ['steps', index, 'questionIds', qIndex], message: `No question has id "${id}"` });
        }
      });
      if (step.kind === 'questions' && step.questionIds.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['steps', index, 'questionIds'], message: 'A questions step needs at least one question' });
      }
      if (step.kind === 'checklist' && !content.checklist) {
        ctx.addIssue({ code: 'custom', path: ['steps', index, 'kind'], message: 'A checklist step needs a checklist' });
      }
    });
    if (content.translations[content.defaultLocale]) {
      ctx.addIssue({ code: 'custom', path: ['translations', content.defaultLocale], message: 'The default locale needs no translation' });
    }
  });

function addDuplicateIssues(values: string[], path: (string | number)[], field: string, label: string, ctx: z.RefinementCtx) {
  const seen = new Set<string>();
  values.forEach((value, index) => {
    if (seen.has(value)) ctx.addIssue({ code: 'custom', path: [...path, index, field], message: `Duplicate ${label} "${value}"` });
    seen.add(value);
  });
}

export type TFlowContent = z.output<typeof ZFlowContent>;
export type TFlowContentInput = z.input<typeof ZFlowContent>;
export type TStep = z.output<typeof ZStep>;
export type TQuestion = z.output<typeof ZQuestion>;
export type TTranslation = z.output<typeof ZTranslation>;
