// What the runtime API answers, in the shape the client's documents select. Content types come from
// @doorstep/schema as types only: the client ships no code of it.
import type { TFlowProgress } from '@doorstep/schema';

export type TUser = {
  id: string;
  /** What the app knows about the user; answers to segmentation questions override them. */
  attributes?: Record<string, unknown>;
  /** Hex HMAC-SHA256 of the id, computed by the app's backend, when identity verification is on. */
  hash?: string;
};

export type TCallToAction = { label: string; url: string | null; event: string | null };

export type TOnboarding = {
  flow: { key: string; name: string };
  /** Where it shows: main, banner, modal, checklist or a named inline slot. */
  placement: string;
  version: number;
  /** The experiment variant served, or null. */
  variant: string | null;
  locale: string;
  welcome: {
    title: string;
    bodyHtml: string;
    media: { kind: string; url: string; alt: string } | null;
    primaryCta: TCallToAction | null;
    secondaryCta: TCallToAction | null;
  };
  steps: Array<{
    id: string;
    kind: string;
    title: string;
    bodyHtml: string;
    cta: TCallToAction | null;
    questionIds: string[];
    completionEvent: string | null;
    skippable: boolean;
  }>;
  questions: Array<{
    id: string;
    prompt: string;
    kind: string;
    attribute: string;
    required: boolean;
    options: Array<{ value: string; label: string }>;
    min: number | null;
    max: number | null;
  }>;
  checklist: { title: string; items: Array<{ id: string; label: string; completionEvent: string }> } | null;
  activation: { event: string; description: string };
  progress: TFlowProgress;
};

/** An event as the app describes it; the client adds its id, user and timestamp. */
export type TEvent = {
  name: string;
  flowKey?: string;
  stepId?: string;
  questionId?: string;
  value?: unknown;
  properties?: Record<string, unknown>;
};

/** An event as queued and sent: idempotent by `id`, timestamped when it happened. */
export type TQueuedEvent = TEvent & { id: string; userId: string; userHash?: string; timestamp: string };

/** Why the client gave up on something; the app decides whether to surface it. */
export type TClientProblem =
  | { kind: 'rejected'; event: TQueuedEvent; message: string }
  | { kind: 'dropped'; events: TQueuedEvent[]; message: string }
  | { kind: 'request-failed'; message: string; retryInMs: number };
