import type { DoorstepClient } from './client.ts';

/**
 * What the controller needs of a client: the API's client in apps, an in-memory runtime in the
 * studio preview, so both run the same UI code.
 */
export type TOnboardingSource = Pick<DoorstepClient, 'getOnboarding' | 'track' | 'flush'> & Partial<Pick<DoorstepClient, 'subscribe' | 'guestId' | 'identify'>>;
import type { TEvent, TOnboarding, TUser } from './types.ts';

export type TOnboardingStep = TOnboarding['steps'][number];
export type TOnboardingQuestion = TOnboarding['questions'][number];
/** single and text: a string; multi: distinct option values; number and scale: a number. */
export type TAnswer = string | number | string[];

export type TOnboardingState = {
  /** loading until the first answer; none when no onboarding is served; error when that first request failed. */
  status: 'loading' | 'ready' | 'none' | 'error';
  /** The flow being walked, with the server's progress; kept once it finished, so a UI can show how it ended. */
  onboarding: TOnboarding | null;
  /** Index of the step shown in `onboarding.steps`. */
  stepIndex: number;
  /** Answers given through this controller, by question id. */
  answers: Readonly<Record<string, TAnswer>>;
  /** How the walk ended; null while it runs. */
  finished: 'completed' | 'dismissed' | null;
  /** The flow an answer just moved the user away from; cleared when they move to another step. */
  reroutedFrom: { key: string; name: string } | null;
  /** Events are being sent or the onboarding refetched. */
  busy: boolean;
  /** The last failure to reach the API; the walk goes on, and queued events are retried by the client. */
  error: unknown;
};

export type TOnboardingListener = (state: TOnboardingState) => void;

export type TOnboardingOptions = {
  locale?: string;
  /** The placement to show (main by default): banner, modal, checklist or an inline slot's name. */
  placement?: string;
  /** Refetch when the environment publishes a change (the API's `GET /events`), until `close()`. Off by default. */
  live?: boolean;
};

/** Whether the API will accept this answer to this question (the same rules as the server's). */
export function isValidAnswer(question: TOnboardingQuestion, value: unknown): value is TAnswer {
  const options = question.options.map((option) => option.value);
  switch (question.kind) {
    case 'single':
      return typeof value === 'string' && options.includes(value);
    case 'multi':
      return Array.isArray(value) && value.every((v) => options.includes(v)) && new Set(value).size === value.length;
    case 'text':
      return typeof value === 'string' && value.length <= 1000;
    default:
      return typeof value === 'number' && Number.isFinite(value) && value >= (question.min ?? -Infinity) && value <= (question.max ?? Infinity);
  }
}

export const isStepDone = (onboarding: TOnboarding, stepId: string): boolean => onboarding.progress.completedStepIds.includes(stepId);

/** The first step not done at or after `from`, else the first not done before it, else `from`. */
function openStepFrom(onboarding: TOnboarding, from: number): number {
  const open = onboarding.steps.map((step, index) => (isStepDone(onboarding, step.id) ? -1 : index)).filter((index) => index >= 0);
  return open.find((index) => index >= from) ?? open[0] ?? Math.min(from, onboarding.steps.length - 1);
}

/**
 * State and actions of one user's onboarding, without any UI. Actions track lifecycle events through
 * the client; progress is never guessed: after events that change it, the controller flushes them
 * and refetches, so what it shows is what the server derived (README, "Event lifecycle").
 */
export class OnboardingController {
  private current: TOnboardingState = { status: 'loading', onboarding: null, stepIndex: 0, answers: {}, finished: null, reroutedFrom: null, busy: false, error: null };
  private readonly listeners = new Set<TOnboardingListener>();
  /** Refetches run one after another, so an older answer never overwrites a newer one. */
  private queue: Promise<void> = Promise.resolve();
  private running = 0;
  private readonly viewed = new Set<string>();
  /** A step has been shown: steps reached later (auto-advance, re-routing) count as viewed too. */
  private walking = false;
  /** Answers given, and how many of them the last applied onboarding reflects. */
  private answersGiven = 0;
  private answersApplied = 0;
  private stopLive = () => {};

  /** Whom the controller tracks and fetches for: a guest until `identify`. */
  user: TUser;

  constructor(readonly client: TOnboardingSource, user: TUser, private readonly options: TOnboardingOptions = {}) {
    this.user = user;
    // Opt-in: a session that did not ask keeps what it was served until it asks again.
    if (options.live && client.subscribe) this.stopLive = client.subscribe(() => void this.refetch());
  }

  /** Stops following changes (`live`); the state stays as it is. */
  close(): void {
    this.stopLive();
    this.stopLive = () => {};
  }

  get state(): TOnboardingState {
    return this.current;
  }

  /** Calls the listener now and after every change; returns the unsubscribe function. */
  subscribe(listener: TOnboardingListener): () => void {
    this.listeners.add(listener);
    listener(this.current);
    return () => { this.listeners.delete(listener); };
  }

  /** The flow is shown (its welcome, usually): tracks flow_started once. */
  start(): void {
    const onboarding = this.active();
    if (!onboarding || onboarding.progress.started) return;
    this.send({ name: 'flow_started', flowKey: onboarding.flow.key });
    // The server marks it started as soon as the event lands; a refetch would only confirm it.
    this.set({ onboarding: { ...onboarding, progress: { ...onboarding.progress, started: true } } });
  }

  /** Shows a step: tracks step_viewed once per step. */
  viewStep(stepId: string): void {
    const onboarding = this.active();
    const index = onboarding ? onboarding.steps.findIndex((step) => step.id === stepId) : -1;
    if (!onboarding || index < 0) return;
    this.walking = true;
    if (index !== this.current.stepIndex) this.set({ stepIndex: index, reroutedFrom: null });
    const key = `${onboarding.flow.key}/${stepId}`;
    if (this.viewed.has(key)) return;
    this.viewed.add(key);
    this.send({ name: 'step_viewed', flowKey: onboarding.flow.key, stepId });
  }

  next(): void {
    this.viewStep(this.current.onboarding?.steps[this.current.stepIndex + 1]?.id ?? '');
  }

  back(): void {
    this.viewStep(this.current.onboarding?.steps[this.current.stepIndex - 1]?.id ?? '');
  }

  /** Required questions of a step (the shown one by default) that have no answer yet. */
  missingAnswers(stepId?: string): string[] {
    const step = this.step(stepId);
    const required = new Set(this.current.onboarding?.questions.filter((q) => q.required).map((q) => q.id));
    return (step?.questionIds ?? []).filter((id) => required.has(id) && this.current.answers[id] === undefined);
  }

  /**
   * Tracks question_answered, then refetches: the answer sets the question's attribute on the
   * server, which may serve another flow now (re-routing). Resolves false, tracking nothing, for an
   * answer the API would refuse.
   */
  answer(questionId: string, value: TAnswer): Promise<boolean> {
    const onboarding = this.active();
    const question = onboarding?.questions.find((q) => q.id === questionId);
    if (!onboarding || !question || !isValidAnswer(question, value)) return Promise.resolve(false);
    this.set({ answers: { ...this.current.answers, [questionId]: value } });
    this.send({ name: 'question_answered', flowKey: onboarding.flow.key, questionId, value });
    this.answersGiven++;
    return this.refetch().then(() => true);
  }

  /** Tracks step_completed and refetches. Resolves false for a step with required questions unanswered. */
  completeStep(stepId?: string): Promise<boolean> {
    return this.endStep('step_completed', stepId);
  }

  /** Tracks step_skipped and refetches. Resolves false for a step that is not skippable. */
  skipStep(stepId?: string): Promise<boolean> {
    return this.endStep('step_skipped', stepId);
  }

  /** The user closed the onboarding: tracks flow_dismissed; nothing more is served to them. */
  async dismiss(): Promise<void> {
    const onboarding = this.active();
    if (!onboarding) return;
    this.send({ name: 'flow_dismissed', flowKey: onboarding.flow.key });
    this.set({ finished: 'dismissed' });
    await this.run(() => this.client.flush());
  }

  /** Tracks a product event (or a call to action's) for this user, then refetches. */
  track(event: TEvent): Promise<void> {
    this.send(event);
    return this.refresh();
  }

  /**
   * The guest signed in: merges what they did into the user (`client.identify`), switches to the
   * user and refetches, so the walk carries on where the guest was, in the variant they saw. A
   * failed merge is reported in `error`; the controller follows the user either way.
   */
  identify(user: TUser): Promise<void> {
    const from = this.user.id;
    this.user = user;
    if (from.startsWith('guest_') && from !== user.id) void this.run(async () => { await this.client.identify?.(user.id, { hash: user.hash }); });
    return this.refetch();
  }

  /** Sends queued events (the app's too, when it shares the client), then refetches the onboarding. */
  refresh(): Promise<void> {
    return this.refetch();
  }

  private endStep(name: 'step_completed' | 'step_skipped', stepId?: string): Promise<boolean> {
    const onboarding = this.active();
    const step = this.step(stepId);
    if (!onboarding || !step) return Promise.resolve(false);
    if (name === 'step_skipped' ? !step.skippable : this.missingAnswers(step.id).length > 0) return Promise.resolve(false);
    this.walking = true;
    this.send({ name, flowKey: onboarding.flow.key, stepId: step.id });
    return this.refetch().then(() => true);
  }

  private refetch(): Promise<void> {
    return this.run(async () => {
      if (this.current.finished) return;
      await this.client.flush();
      // Counted once the flush is done: a flush keeps sending what is tracked meanwhile, so any
      // refetch, whatever action queued it, may be the first to see an answer's effect.
      const answered = this.answersGiven;
      const next = await this.client.getOnboarding(this.user, this.options);
      await this.apply(next, answered > this.answersApplied);
      this.answersApplied = Math.max(this.answersApplied, answered);
    });
  }

  /** `answered`: the onboarding reflects answers not seen before, so a change of flow is a re-routing. */
  private async apply(next: TOnboarding | null, answered: boolean): Promise<void> {
    const shown = this.current.status === 'ready' ? this.current.onboarding : null;
    if (this.current.finished) return;
    if (!shown) {
      this.set(next ? { status: 'ready', onboarding: next, stepIndex: openStepFrom(next, 0), error: null } : { status: 'none', onboarding: null, error: null });
      return;
    }
    if (next?.flow.key === shown.flow.key) {
      const stepId = shown.steps[this.current.stepIndex]?.id ?? '';
      const found = next.steps.findIndex((step) => step.id === stepId);
      // The shown step was just done (by the user or a product event): move on to the next open one.
      const index = found < 0 || (!isStepDone(shown, stepId) && isStepDone(next, stepId)) ? openStepFrom(next, Math.max(found, 0)) : found;
      // The notice of a re-routing belongs to the step it happened on.
      this.set({ onboarding: next, stepIndex: index, reroutedFrom: index === this.current.stepIndex ? this.current.reroutedFrom : null, error: null });
      this.viewShown();
      if (next.steps.every((step) => isStepDone(next, step.id))) {
        // Every step shown is done, yet the server still serves the flow: its completion rule cannot
        // end it (all its steps are conditional, say). This is the case the README leaves to the app.
        this.send({ name: 'flow_completed', flowKey: next.flow.key });
        await this.client.flush();
        this.finish(next);
      }
      return;
    }
    if (answered && next) {
      // The answer routed the user to another flow; they are mid-walk, so it starts at once.
      this.set({ onboarding: next, stepIndex: openStepFrom(next, 0), reroutedFrom: shown.flow, error: null });
      this.start();
      this.viewShown();
    } else if (answered) {
      this.set({ status: 'none', onboarding: null });
    } else {
      // The flow is no longer served after progress: the server completed it (a dismissal would
      // have come through this controller).
      this.finish(shown);
    }
  }

  private finish(onboarding: TOnboarding): void {
    this.set({ finished: 'completed', reroutedFrom: null, onboarding: { ...onboarding, progress: { ...onboarding.progress, completed: true } } });
  }

  private viewShown(): void {
    const step = this.step();
    if (this.walking && step) this.viewStep(step.id);
  }

  private active(): TOnboarding | null {
    return this.current.finished ? null : this.current.onboarding;
  }

  private step(stepId?: string): TOnboardingStep | undefined {
    const steps = this.current.onboarding?.steps ?? [];
    return stepId === undefined ? steps[this.current.stepIndex] : steps.find((step) => step.id === stepId);
  }

  private send(event: TEvent): void {
    this.client.track(this.user, event);
  }

  private run(task: () => Promise<void>): Promise<void> {
    if (this.running++ === 0) this.set({ busy: true });
    const done = this.queue.then(task).then(
      () => undefined,
      (error: unknown) => { this.set(this.current.status === 'loading' ? { status: 'error', error } : { error }); },
    ).finally(() => { if (--this.running === 0) this.set({ busy: false }); });
    this.queue = done;
    return done;
  }

  private set(change: Partial<TOnboardingState>): void {
    this.current = { ...this.current, ...change };
    for (const listener of this.listeners) listener(this.current);
  }
}

/**
 * The headless onboarding of one user (a guest, `client.guestId()`, when none is given): starts
 * loading at once; subscribe to follow it.
 */
export function createOnboarding(client: TOnboardingSource, user?: TUser | null, options: TOnboardingOptions = {}): OnboardingController {
  const controller = new OnboardingController(client, user ?? { id: client.guestId!() }, options);
  void controller.refresh();
  return controller;
}
