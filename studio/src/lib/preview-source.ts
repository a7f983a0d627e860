// The studio preview runs the drop-in <doorstep-onboarding> on an in-memory runtime instead of the
// API, so an author walks the unsaved draft with the very UI and progress rules their users get.
import type { TEvent, TOnboarding, TOnboardingSource, TUser } from '@doorstep/client';
import type { LocalRuntime, TResolvedOnboarding, TRuntimeSnapshot } from '@doorstep/schema';

/**
 * A resolved onboarding in the shape the runtime API answers (and the client's document selects):
 * the variant as its key, and none of the fields the API leaves out (the markdown sources).
 */
export function toOnboarding(resolved: TResolvedOnboarding): TOnboarding {
  const { welcome, checklist, progress } = resolved;
  return {
    flow: { key: resolved.flow.key, name: resolved.flow.name },
    placement: resolved.placement,
    version: resolved.version,
    variant: resolved.variant?.key ?? null,
    locale: resolved.locale,
    welcome: { title: welcome.title, bodyHtml: welcome.bodyHtml, media: welcome.media, primaryCta: welcome.primaryCta, secondaryCta: welcome.secondaryCta },
    steps: resolved.steps.map((step) => ({
      id: step.id, kind: step.kind, title: step.title, bodyHtml: step.bodyHtml, cta: step.cta,
      questionIds: step.questionIds, completionEvent: step.completionEvent, skippable: step.skippable,
    })),
    questions: resolved.questions.map((q) => ({
      id: q.id, prompt: q.prompt, kind: q.kind, attribute: q.attribute, required: q.required, options: q.options, min: q.min, max: q.max,
    })),
    checklist: checklist && { title: checklist.title, items: checklist.items.map((item) => ({ id: item.id, label: item.label, completionEvent: item.completionEvent })) },
    activation: { event: resolved.activation.event, description: resolved.activation.description },
    progress: {
      started: progress.started, completedStepIds: progress.completedStepIds, checkedItemIds: progress.checkedItemIds,
      completed: progress.completed, dismissed: progress.dismissed,
    },
  };
}

/** What the controller and the element need of a client, answered by a LocalRuntime: events apply at once, so flushing has nothing to wait for. */
export function previewSource(runtime: LocalRuntime): TOnboardingSource {
  let sent = 0;
  return {
    getOnboarding: async (user: TUser, options: { locale?: string } = {}) => {
      const resolved = runtime.resolve({ id: user.id, attributes: user.attributes ?? {} }, options.locale ?? null);
      return resolved && toOnboarding(resolved);
    },
    track: (user: TUser, event: TEvent) => {
      runtime.apply(user.id, event);
      return `preview-${++sent}`;
    },
    flush: async () => {},
  };
}

/**
 * What the editor's preview pane posts to its frame: the flows to play (production's, with the
 * draft in its place) and the sample user. Every run starts over from the welcome.
 */
export type TPreviewRun = { type: 'doorstep-preview:run'; snapshot: TRuntimeSnapshot; user: TUser; locale: string | null };
/** A product event the author "does in the app", so steps and checklist items waiting for it tick. */
export type TPreviewEvent = { type: 'doorstep-preview:event'; name: string };
/** From the frame: it is listening (`ready`), or what it shows now, with the events its open steps and items wait for. */
export type TPreviewReport =
  | { type: 'doorstep-preview:ready' }
  | { type: 'doorstep-preview:state'; flow: { key: string; name: string } | null; ended: 'completed' | 'dismissed' | null; waitingFor: string[] };

const hasType = (data: unknown, type: string): data is { type: string } =>
  typeof data === 'object' && data !== null && (data as { type?: unknown }).type === type;

export const isPreviewRun = (data: unknown): data is TPreviewRun => hasType(data, 'doorstep-preview:run');
export const isPreviewEvent = (data: unknown): data is TPreviewEvent => hasType(data, 'doorstep-preview:event');
export const isPreviewReport = (data: unknown): data is TPreviewReport => hasType(data, 'doorstep-preview:ready') || hasType(data, 'doorstep-preview:state');

/** The product events the shown flow still waits for: open steps' first, then unticked checklist items'. */
export function eventsWaitedFor(onboarding: TOnboarding): string[] {
  const { progress } = onboarding;
  const events = [
    ...onboarding.steps.filter((step) => !progress.completedStepIds.includes(step.id)).map((step) => step.completionEvent),
    ...(onboarding.checklist?.items ?? []).filter((item) => !progress.checkedItemIds.includes(item.id)).map((item) => item.completionEvent),
  ];
  return [...new Set(events.filter((name) => name !== null))];
}
