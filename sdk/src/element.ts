// `@doorstep/client/element`: the drop-in <doorstep-onboarding> custom element, on top of the
// headless controller. Plain DOM in an open shadow root; importing this module defines the element.
import { createDoorstep, type DoorstepClient } from './client.ts';
import { STYLES } from './element-styles.ts';
import {
  createOnboarding, isStepDone, isValidAnswer, type OnboardingController, type TAnswer, type TOnboardingQuestion, type TOnboardingSource, type TOnboardingState,
} from './headless.ts';
import type { TCallToAction, TOnboarding, TUser } from './types.ts';

/** Every text the element writes itself (the rest comes from the API, localized); override through `.strings`. */
export const DEFAULT_STRINGS = {
  title: 'Getting started',
  start: 'Get started',
  close: 'Close',
  hide: 'Hide steps',
  show: 'Show steps',
  stepOf: 'Step {n} of {total}',
  doneOf: '{done} of {total} steps done',
  allDone: 'All done',
  continue: 'Continue',
  next: 'Next step',
  back: 'Back',
  skip: 'Skip',
  waiting: 'This step completes on its own once you do it in the app.',
  stepDone: 'Done',
  itemDone: 'done',
  itemOpen: 'to do',
  required: 'required',
  rerouted: 'Your answer changed your setup.',
  completedStep: 'Done: {title}.',
  ticked: 'Ticked: {label}.',
  complete: 'You are all set',
  completeBody: 'You finished every step. Enjoy!',
  missing: 'Answer this question to continue.',
  invalid: 'Enter a valid answer.',
  range: 'Enter a number from {min} to {max}.',
  error: 'Your progress could not be saved yet; it will be sent when the connection is back.',
};
export type TElementStrings = typeof DEFAULT_STRINGS;

const ATTRIBUTES = ['api-url', 'public-key', 'user-id', 'user-attributes', 'user-hash', 'locale', 'live', 'placement', 'display', 'debug', 'guest'];
/** Scales of up to this many values are radio buttons; longer ones take a number field. */
const MAX_SCALE_OPTIONS = 11;

type TProps = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;
type TChild = Node | string | null | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: TProps = {}, ...children: TChild[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

function richText(html: string, id?: string): HTMLElement | null {
  if (!html) return null;
  const body = h('div', { class: 'body', id });
  // The one place HTML is inserted: bodyHtml is rendered from safe markdown and sanitized by the API.
  body.innerHTML = html;
  return body;
}

const format = (template: string, values: Record<string, string | number>) => template.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key] ?? ''));

// Defined on any platform, so server-side rendering can import the module; only browsers construct it.
const Base = (globalThis.HTMLElement ?? class {}) as typeof HTMLElement;

/**
 * <doorstep-onboarding api-url public-key user-id user-attributes user-hash locale live>, or with `.client`
 * and `.user` set: the welcome as a modal dialog, then the steps, questions and checklist in a panel
 * (a bottom sheet on phones) while the user works in the app. Call `refresh()` after tracking
 * product events through the same client, so steps they complete tick at once.
 */
export class DoorstepOnboardingElement extends Base {
  static observedAttributes = ATTRIBUTES;
  /** Texts to replace, e.g. for the user's language. */
  strings: Partial<TElementStrings> = {};
  private clientValue: TOnboardingSource | null = null;
  private userValue: TUser | null = null;
  private ownClient: DoorstepClient | null = null;
  private onboarding: OnboardingController | null = null;
  private unsubscribe = () => {};
  private initQueued = false;
  private readonly root: ShadowRoot;
  private readonly live: HTMLElement;
  private readonly dialog: HTMLDialogElement;
  private readonly panel: HTMLElement;
  // The panel's parts are replaced separately, so a field being typed in is never moved or rebuilt
  // by an update that does not change its step.
  private readonly head = h('div', { class: 'sticky' });
  private readonly body = h('div', { id: 'panel-body' });
  private readonly top = h('div');
  private readonly stepSlot = h('div');
  private readonly list = h('div');
  private pendingAnswer: Promise<unknown> = Promise.resolve();
  private last: TOnboardingState | null = null;
  private flowKey = '';
  private stepKey = '';
  private welcomeOpen = false;
  private collapsed = false;
  private closed = false;
  private focusNext = '';
  private returnFocus: HTMLElement | null = null;
  /** How the placement shows: main, banner, modal, checklist or inline (any other placement). */
  private kind = '';

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLES);
    // Constructed sheets are shared and not subject to a page's style-src CSP, unlike a <style>.
    this.root.adoptedStyleSheets = [sheet];
    this.live = h('div', { class: 'sr', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
    this.dialog = h('dialog', { 'aria-labelledby': 'welcome-title', 'aria-describedby': 'welcome-body', 'aria-modal': 'true', onkeydown: (e) => this.onDialogKey(e as KeyboardEvent) });
    this.dialog.addEventListener('cancel', (event) => { event.preventDefault(); void this.dismiss(); });
    this.body.append(this.top, this.stepSlot, this.list);
    this.panel = h('section', { class: 'panel', 'aria-labelledby': 'panel-title', hidden: true }, this.head, this.body);
    this.root.append(this.live, this.dialog, this.panel);
    this.root.addEventListener('focusin', (event) => {
      const from = (event as FocusEvent).relatedTarget;
      if (from instanceof HTMLElement && from !== this && !this.root.contains(from)) this.returnFocus = from;
    });
  }

  get client(): TOnboardingSource | null {
    return this.clientValue ?? this.ownClient;
  }

  /** A client the app shares, so its own events and the element's go through one queue. */
  set client(client: TOnboardingSource | null) {
    this.clientValue = client;
    this.queueInit();
  }

  get user(): TUser | null {
    return this.userValue ?? this.userFromAttributes();
  }

  set user(user: TUser | null) {
    this.userValue = user;
    this.queueInit();
  }

  /** The headless controller behind the element, once it has a client and a user. */
  get controller(): OnboardingController | null {
    return this.onboarding;
  }

  /** Sends queued events and refetches the onboarding: call it after tracking product events. */
  refresh(): Promise<void> {
    return this.onboarding?.refresh() ?? Promise.resolve();
  }

  connectedCallback(): void {
    this.queueInit();
  }

  disconnectedCallback(): void {
    this.teardown();
  }

  attributeChangedCallback(): void {
    if (this.isConnected) this.queueInit();
  }

  private get text(): TElementStrings {
    return { ...DEFAULT_STRINGS, ...this.strings };
  }

  private userFromAttributes(): TUser | null {
    // Guests are opt-in: an app that learns its user's id a moment later must not start a guest first.
    const id = this.getAttribute('user-id') ?? (this.hasAttribute('guest') ? this.client?.guestId?.() : null);
    if (!id) return null;
    let attributes: Record<string, unknown> = {};
    try {
      attributes = JSON.parse(this.getAttribute('user-attributes') ?? '{}') as Record<string, unknown>;
    } catch {
      console.warn('<doorstep-onboarding>: user-attributes is not JSON; ignored');
    }
    const hash = this.getAttribute('user-hash');
    return { id, attributes, ...(hash ? { hash } : {}) };
  }

  /** Attributes and properties are often set one after another: start once, after the last. */
  private queueInit(): void {
    if (this.initQueued) return;
    this.initQueued = true;
    queueMicrotask(() => {
      this.initQueued = false;
      this.init();
    });
  }

  private init(): void {
    const current = this.onboarding;
    const user = this.user;
    // A guest signed in: the same walk goes on as the user, merged on the server.
    if (current && user && this.isConnected && current.user.id.startsWith('guest_') && user.id !== current.user.id) {
      void current.identify(user);
      return;
    }
    this.teardown();
    if (!this.isConnected) return;
    const apiUrl = this.getAttribute('api-url');
    const publicKey = this.getAttribute('public-key');
    if (!this.clientValue && apiUrl && publicKey) this.ownClient = createDoorstep({ apiUrl, publicKey });
    const client = this.client;
    if (!client || !user) return;
    const placement = this.getAttribute('placement') || 'main';
    const kind = this.kind = this.getAttribute('display') || (/^(main|banner|modal|checklist)$/.test(placement) ? placement : 'inline');
    this.panel.className = `panel is-${kind}`;
    // A banner is the welcome, in the panel.
    this.panel.setAttribute('aria-labelledby', kind == 'banner' ? 'welcome-title' : 'panel-title');
    const controller = this.onboarding = createOnboarding(client, user, { locale: this.getAttribute('locale') ?? undefined, live: this.hasAttribute('live'), placement });
    this.unsubscribe = controller.subscribe((state) => this.update(state));
    // A separate chunk, fetched only when asked for: the debug view costs other visitors nothing.
    if (this.hasAttribute('debug') || location.search.includes('doorstep-debug')) void import('./debug-view.ts').then((debug) => debug.showDebugView(this.root, controller));
  }

  private teardown(): void {
    this.unsubscribe();
    this.unsubscribe = () => {};
    this.onboarding?.close();
    this.onboarding = null;
    void this.ownClient?.close();
    this.ownClient = null;
    this.last = null;
    this.flowKey = this.stepKey = '';
    this.welcomeOpen = this.collapsed = this.closed = false;
    if (this.dialog.open) this.dialog.close();
    this.panel.hidden = true;
  }

  private update(state: TOnboardingState): void {
    this.announce(this.last, state);
    this.last = state;
    const onboarding = state.onboarding;
    if (state.status !== 'ready' || !onboarding || state.finished === 'dismissed' || this.closed) {
      if (this.dialog.open) this.dialog.close();
      this.panel.hidden = true;
      return;
    }
    if (onboarding.flow.key !== this.flowKey) {
      this.flowKey = onboarding.flow.key;
      // The welcome opens for a flow the user has not begun; a re-routed user is mid-walk already.
      // A modal or a banner is its welcome, until it is acted on; a checklist has none.
      const kind = this.kind;
      this.welcomeOpen = kind == 'modal' || kind == 'banner' || (kind != 'checklist' && !onboarding.progress.started && !state.reroutedFrom && !state.finished);
      const controller = this.onboarding!;
      const stepId = onboarding.steps[state.stepIndex].id;
      // After this listener returns: the controller is notifying its listeners right now. start()
      // does nothing for a flow already started.
      queueMicrotask(() => { controller.start(); if (!this.welcomeOpen) controller.viewStep(stepId); });
      if (this.welcomeOpen) this.openWelcome(onboarding);
    }
    if (!this.welcomeOpen) this.renderPanel(state, onboarding);
  }

  private openWelcome(onboarding: TOnboarding): void {
    const { welcome } = onboarding;
    const text = this.text;
    const banner = this.kind == 'banner';
    const media = !banner && welcome.media;
    const cta = (action: TCallToAction | null, primary: boolean) => h('button', {
      type: 'button', class: primary ? 'primary' : 'secondary', id: primary ? 'welcome-start' : null, onclick: () => this.leaveWelcome(action),
    }, action?.label ?? text.start);
    (banner ? this.head : this.dialog).replaceChildren(
      !media ? '' : media.kind === 'video'
        ? h('video', { class: 'media', src: media.url, controls: true, 'aria-label': media.alt || null })
        : h('img', { class: 'media', src: media.url, alt: media.alt }),
      h('h2', { id: 'welcome-title' }, welcome.title),
      richText(welcome.bodyHtml, 'welcome-body') ?? '',
      h('div', { class: 'actions' }, welcome.secondaryCta && cta(welcome.secondaryCta, false), cta(welcome.primaryCta, true)),
      // Last in tab order, first in the corner: the first Tab lands on the way forward.
      h('button', { type: 'button', class: 'icon close', 'aria-label': text.close, onclick: () => void this.dismiss() }, '×'),
    );
    this.panel.hidden = !banner;
    // A banner shows in place, without taking focus.
    if (banner) return;
    if (!this.returnFocus) this.returnFocus = deepActiveElement();
    this.dialog.showModal();
    this.root.getElementById('welcome-start')?.focus();
  }

  private leaveWelcome(action: TCallToAction | null): void {
    this.welcomeOpen = false;
    this.dialog.close();
    this.focusNext = 'step-title';
    const state = this.onboarding!.state;
    if (this.kind == 'modal' || this.kind == 'banner') {
      // An announcement's call to action is its step: done, the server completes the flow.
      this.closed = this.panel.hidden = true;
      this.restoreFocus();
      void this.onboarding!.completeStep();
    } else {
      this.renderPanel(state, state.onboarding!);
      this.onboarding!.viewStep(state.onboarding!.steps[state.stepIndex].id);
    }
    if (action) this.useCallToAction(action);
  }

  private onDialogKey(event: KeyboardEvent): void {
    if (event.key === 'Escape') {
      event.preventDefault();
      void this.dismiss();
    } else if (event.key === 'Tab') {
      const focusable = [...this.dialog.querySelectorAll<HTMLElement>('a[href],button,input,video')];
      const active = this.root.activeElement;
      const edge = event.shiftKey ? focusable[0] : focusable[focusable.length - 1];
      if (active === edge || !focusable.includes(active as HTMLElement)) {
        event.preventDefault();
        (event.shiftKey ? focusable[focusable.length - 1] : focusable[0]).focus();
      }
    }
  }

  private async dismiss(): Promise<void> {
    this.welcomeOpen = false;
    if (this.dialog.open) this.dialog.close();
    this.panel.hidden = true;
    this.restoreFocus();
    await this.onboarding?.dismiss();
  }

  private restoreFocus(): void {
    if (this.returnFocus?.isConnected) this.returnFocus.focus();
    this.returnFocus = null;
  }

  private useCallToAction(action: TCallToAction): void {
    if (action.event) void this.onboarding?.track({ name: action.event });
    if (!action.url) return;
    // Single-page apps route it themselves: preventDefault() on this event keeps the element from navigating.
    const navigate = new CustomEvent('doorstep-navigate', { detail: { url: action.url }, bubbles: true, composed: true, cancelable: true });
    if (!this.dispatchEvent(navigate)) return;
    const target = new URL(action.url, location.href);
    if (target.origin === location.origin || target.protocol === 'mailto:') location.assign(target.href);
    else window.open(target.href, '_blank', 'noopener');
  }

  private renderPanel(state: TOnboardingState, onboarding: TOnboarding): void {
    const text = this.text;
    const active = this.root.activeElement as HTMLElement | null;
    const { steps, checklist, progress } = onboarding;
    const step = steps[state.stepIndex];
    const finished = state.finished === 'completed';
    const done = finished ? steps.length : steps.filter((s) => isStepDone(onboarding, s.id)).length;
    const bar = h('span');
    bar.style.width = `${(100 * done) / steps.length}%`;
    this.head.replaceChildren(
      h('div', { class: 'head' },
        h('h2', { id: 'panel-title' }, text.title),
        h('button', {
          type: 'button', class: 'icon', id: 'toggle', 'aria-expanded': String(!this.collapsed), 'aria-controls': 'panel-body',
          'aria-label': this.collapsed ? text.show : text.hide, onclick: () => this.toggle(),
        }, this.collapsed ? '⌃' : '⌄'),
        h('button', { type: 'button', class: 'icon', id: 'close', 'aria-label': text.close, onclick: () => void (finished ? this.closeDone() : this.dismiss()) }, '×')),
      h('p', { class: 'count', id: 'count' }, finished ? text.allDone : format(text.stepOf, { n: state.stepIndex + 1, total: steps.length })),
      h('div', {
        class: 'bar', role: 'progressbar', 'aria-labelledby': 'count', 'aria-valuemin': 0, 'aria-valuemax': steps.length, 'aria-valuenow': done,
        'aria-valuetext': finished ? text.allDone : format(text.doneOf, { done, total: steps.length }),
      }, bar),
    );
    this.body.hidden = this.collapsed;
    this.top.replaceChildren(
      state.error ? h('p', { class: 'error', role: 'alert' }, text.error) : '',
      state.reroutedFrom ? h('div', { class: 'notice', role: 'note' }, h('p', {}, text.rerouted), h('strong', {}, onboarding.welcome.title), richText(onboarding.welcome.bodyHtml)) : '',
    );
    const key = finished ? 'finished' : `${onboarding.flow.key}/${step.id}/${isStepDone(onboarding, step.id)}`;
    const rebuilt = key !== this.stepKey;
    const focusWasInStep = !!active && this.stepSlot.contains(active);
    if (rebuilt) this.stepSlot.replaceChildren(finished ? this.renderDone() : this.renderStep(state, onboarding));
    this.stepKey = key;
    const ticked = checklist?.items.filter((item) => progress.checkedItemIds.includes(item.id)).length ?? 0;
    // Once the server completed the flow it serves it no more, so its last checklist state is out of
    // date (the event that completed the flow may have ticked an item): the completion shows alone.
    this.list.replaceChildren(checklist && !finished ? h('section', { class: 'checklist', 'aria-labelledby': 'checklist-title' },
      h('h3', { id: 'checklist-title' }, `${checklist.title} `, h('span', { class: 'muted' }, `${ticked}/${checklist.items.length}`)),
      h('ul', {}, ...checklist.items.map((item) => {
        const on = progress.checkedItemIds.includes(item.id);
        return h('li', { class: on ? 'on' : null }, h('span', { class: 'tick', 'aria-hidden': 'true' }, '✓'), item.label, h('span', { class: 'sr' }, ` (${on ? text.itemDone : text.itemOpen})`));
      }))) : '');
    this.panel.setAttribute('aria-busy', String(state.busy));
    this.panel.hidden = false;
    if (this.focusNext) this.root.getElementById(this.focusNext)?.focus();
    else if (active && !active.isConnected) {
      // A control of the step that went away: go on from the new step's title; a rebuilt header
      // button: the same button again.
      (focusWasInStep || !active.id ? this.root.getElementById('step-title') : this.root.getElementById(active.id))?.focus();
    }
    this.focusNext = '';
  }

  private toggle(): void {
    this.collapsed = !this.collapsed;
    const state = this.onboarding!.state;
    this.renderPanel(state, state.onboarding!);
  }

  private renderStep(state: TOnboardingState, onboarding: TOnboarding): HTMLElement {
    const text = this.text;
    const controller = this.onboarding!;
    const step = onboarding.steps[state.stepIndex];
    const done = isStepDone(onboarding, step.id);
    const last = state.stepIndex === onboarding.steps.length - 1;
    const questions = step.questionIds.map((id) => onboarding.questions.find((q) => q.id === id)).filter((q) => !!q);
    const waits = !!step.completionEvent && !done;
    const primary = !done && !waits
      ? h('button', { type: 'submit', class: 'primary' }, text.continue)
      : !last && h('button', { type: 'button', class: waits ? 'secondary' : 'primary', onclick: () => controller.next() }, text.next);
    return h('form', {
      class: 'step', 'aria-labelledby': 'step-title', novalidate: true,
      onsubmit: (event) => { event.preventDefault(); void this.continueStep(questions); },
    },
    h('h3', { id: 'step-title', tabindex: '-1' }, step.title),
    done && h('p', { class: 'badge' }, `✓ ${text.stepDone}`),
    richText(step.bodyHtml),
    ...questions.map((question) => this.renderQuestion(question, state.answers[question.id])),
    waits && h('p', { class: 'hint' }, text.waiting),
    step.cta && h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: () => this.useCallToAction(step.cta!) }, step.cta.label)),
    h('div', { class: 'actions' },
      state.stepIndex > 0 && h('button', { type: 'button', class: 'link', onclick: () => controller.back() }, `‹ ${text.back}`),
      step.skippable && !done && h('button', { type: 'button', class: 'secondary', onclick: () => void controller.skipStep(step.id) }, text.skip),
      primary));
  }

  private renderDone(): HTMLElement {
    const text = this.text;
    return h('div', { class: 'done' },
      h('span', { class: 'tick big', 'aria-hidden': 'true' }, '✓'),
      h('h3', { id: 'step-title', tabindex: '-1' }, text.complete),
      h('p', {}, text.completeBody),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => this.closeDone() }, text.close)));
  }

  private closeDone(): void {
    this.closed = true;
    this.panel.hidden = true;
    this.restoreFocus();
  }

  private renderQuestion(question: TOnboardingQuestion, answer: TAnswer | undefined): HTMLElement {
    const text = this.text;
    const id = `q-${question.id}`;
    const describedBy = `${id}-error`;
    const prompt = [question.prompt, question.required && h('span', { class: 'req' }, ` (${text.required})`)];
    const error = h('p', { class: 'error', id: describedBy, hidden: true });
    const onchange = () => void this.commit(question);
    const scale = question.kind === 'scale' ? scaleValues(question.min ?? 1, question.max ?? 5) : [];
    if (question.kind === 'text' || question.kind === 'number' || (question.kind === 'scale' && scale.length === 0)) {
      const numeric = question.kind !== 'text';
      const input = h('input', {
        id, name: question.id, type: numeric ? 'number' : 'text', inputmode: numeric ? 'decimal' : null, step: numeric ? 'any' : null,
        min: question.min, max: question.max, maxlength: numeric ? null : 1000, value: answer === undefined ? null : String(answer),
        'aria-describedby': describedBy, 'aria-required': question.required ? 'true' : null, onchange,
      });
      return h('div', { class: 'q' }, h('label', { for: id }, ...prompt), input, error);
    }
    const options = question.kind === 'scale' ? scale.map((n) => ({ value: String(n), label: String(n) })) : question.options;
    const chosen = answer === undefined ? [] : Array.isArray(answer) ? answer : [String(answer)];
    return h('fieldset', { class: `q ${question.kind}`, 'aria-describedby': describedBy },
      h('legend', {}, ...prompt),
      h('div', { class: 'opts' }, ...options.map((option, index) => h('label', { class: 'opt' },
        h('input', { type: question.kind === 'multi' ? 'checkbox' : 'radio', id: `${id}-${index}`, name: question.id, value: option.value, checked: chosen.includes(option.value), onchange }),
        option.label))),
      error);
  }

  /**
   * Sends the answer in the form if it is new: resolves true when the walk may go on with this
   * step, false when the answer is invalid or moved the user to another step or flow.
   */
  private async commit(question: TOnboardingQuestion): Promise<boolean> {
    const form = this.panel.querySelector('form');
    const controller = this.onboarding;
    if (!form || !controller) return false;
    const raw = new FormData(form).getAll(question.id).map(String);
    const numeric = question.kind === 'number' || question.kind === 'scale';
    const value = question.kind === 'multi' ? raw : raw[0]?.trim() ? (numeric ? Number(raw[0]) : raw[0].trim()) : undefined;
    const valid = value === undefined || isValidAnswer(question, value);
    const text = this.text;
    this.showError(question, valid ? '' : question.min !== null || question.max !== null ? format(text.range, { min: question.min ?? '…', max: question.max ?? '…' }) : text.invalid);
    if (!valid) return false;
    const known = controller.state.answers[question.id];
    if (value === undefined || JSON.stringify(known) === JSON.stringify(value)) return true;
    const before = this.stepKey;
    const answered = controller.answer(question.id, value);
    this.pendingAnswer = answered;
    await answered;
    return this.stepKey === before;
  }

  private showError(question: TOnboardingQuestion, message: string): void {
    const error = this.root.getElementById(`q-${question.id}-error`);
    if (!error) return;
    error.textContent = message;
    error.hidden = !message;
    for (const input of this.panel.querySelectorAll(`[name="${question.id}"]`)) input.setAttribute('aria-invalid', String(!!message));
  }

  private async continueStep(questions: TOnboardingQuestion[]): Promise<void> {
    const controller = this.onboarding!;
    const before = this.stepKey;
    for (const question of questions) if (!(await this.commit(question))) return;
    // An answer sent on change may still be on its way, and may move the user elsewhere.
    await this.pendingAnswer;
    if (this.stepKey !== before) return;
    const missing = controller.missingAnswers();
    for (const question of questions) if (missing.includes(question.id)) this.showError(question, this.text.missing);
    if (missing.length > 0) {
      this.panel.querySelector<HTMLElement>(`[name="${missing[0]}"]`)?.focus();
      return;
    }
    await controller.completeStep();
  }

  /** Tells screen reader users what changed without moving their focus: progress, ticks, re-routing, the end. */
  private announce(previous: TOnboardingState | null, state: TOnboardingState): void {
    const onboarding = state.onboarding;
    const before = previous?.onboarding;
    if (!onboarding || !before || state.status !== 'ready' || state.finished === 'dismissed') return;
    const text = this.text;
    const messages: string[] = [];
    const sameFlow = before.flow.key === onboarding.flow.key;
    if (state.finished && !previous.finished) messages.push(`${text.complete}. ${text.completeBody}`);
    else if (!state.finished) {
      if (!sameFlow && state.reroutedFrom) messages.push(`${text.rerouted} ${onboarding.welcome.title}.`);
      if (sameFlow) {
        const newly = (ids: string[], old: string[]) => ids.filter((id) => !old.includes(id));
        for (const id of newly(onboarding.progress.completedStepIds, before.progress.completedStepIds)) {
          messages.push(format(text.completedStep, { title: onboarding.steps.find((s) => s.id === id)?.title ?? id }));
        }
        for (const id of newly(onboarding.progress.checkedItemIds, before.progress.checkedItemIds)) {
          messages.push(format(text.ticked, { label: onboarding.checklist?.items.find((i) => i.id === id)?.label ?? id }));
        }
      }
      const step = onboarding.steps[state.stepIndex];
      if (!sameFlow || state.stepIndex !== previous.stepIndex) messages.push(`${format(text.stepOf, { n: state.stepIndex + 1, total: onboarding.steps.length })}: ${step.title}`);
    }
    if (state.error && !previous.error) messages.push(text.error);
    if (messages.length === 0) return;
    // Emptied first, so the same message twice is announced twice.
    this.live.textContent = '';
    setTimeout(() => { this.live.textContent = messages.join(' '); }, 50);
  }
}

/** The values of a scale short enough for radio buttons, or none. */
function scaleValues(min: number, max: number): number[] {
  const size = max - min + 1;
  return Number.isInteger(min) && Number.isInteger(max) && size >= 2 && size <= MAX_SCALE_OPTIONS ? Array.from({ length: size }, (_, i) => min + i) : [];
}

/** The focused element, looking into shadow roots: what focus returns to when the dialog closes. */
function deepActiveElement(): HTMLElement | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active instanceof HTMLElement && active !== document.body ? active : null;
}

declare global {
  interface HTMLElementTagNameMap {
    'doorstep-onboarding': DoorstepOnboardingElement;
  }
}

if (globalThis.customElements && !customElements.get('doorstep-onboarding')) customElements.define('doorstep-onboarding', DoorstepOnboardingElement);
