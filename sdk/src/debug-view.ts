// `@doorstep/client/debug`: why a user gets what they get in a placement (the API's
// `explainOnboarding`), and the panel <doorstep-onboarding> shows with `?doorstep-debug` or its
// `debug` attribute. The element imports this module dynamically, so it is a separate chunk that
// only a page in debug mode downloads: nothing here may be imported statically by the element.
import type { DoorstepClient } from './client.ts';
import type { OnboardingController, TOnboardingState } from './headless.ts';
import type { TUser } from './types.ts';

export const EXPLAIN_DOCUMENT = `query DoorstepExplain($user: OnboardingUserInput!, $locale: String, $placement: String) {
  explainOnboarding(user: $user, locale: $locale, placement: $placement) {
    environmentKey environmentName placement flowKey version variant
    decisions { flowKey name placement outcome detail }
  }
}`;

export type TFlowOutcome =
  | 'served' | 'other_placement' | 'stopped' | 'completed' | 'dismissed' | 'exited' | 'audience' | 'outranked' | 'capped' | 'cooling_off';

export type TExplanation = {
  environmentKey: string;
  environmentName: string;
  placement: string;
  flowKey: string | null;
  version: number | null;
  variant: string | null;
  /** Every published flow, in priority order. */
  decisions: Array<{ flowKey: string; name: string; placement: string; outcome: TFlowOutcome; detail: string | null }>;
};

/** The parts of the client explain needs; kept off its public surface so the client stays small. */
type TClientInternals = {
  transport: { mutate<T>(document: string, variables: Record<string, unknown>): Promise<{ data?: T | null; errors?: Array<{ message: string }> }> };
  options: { publicKey: string };
};

/**
 * Why this user is served what they are in a placement (main by default). Records nothing on the
 * server. Throws for a source that is not a DoorstepClient (the studio preview's).
 */
export async function explain(client: DoorstepClient, user: TUser, options: { locale?: string; placement?: string } = {}): Promise<TExplanation> {
  const internals = client as unknown as Partial<TClientInternals>;
  if (!internals.transport) throw new Error('explain needs a DoorstepClient');
  // Sent without the query cache: its answers are keyed by variables, which onboarding shares.
  const result = await internals.transport.mutate<{ explainOnboarding: TExplanation }>(EXPLAIN_DOCUMENT, { user, locale: options.locale ?? null, placement: options.placement });
  if (!result.data) throw new Error(result.errors?.[0]?.message ?? 'Doorstep gave no answer');
  return result.data.explainOnboarding;
}

/** The public key's prefix: enough to tell keys apart, never the key. */
export function keyPrefix(client: DoorstepClient): string {
  const key = (client as unknown as Partial<TClientInternals>).options?.publicKey ?? '';
  return key ? `${key.slice(0, 12)}…` : '';
}

/** An outcome in plain words, with its detail. */
export function describeDecision(outcome: TFlowOutcome, detail: string | null): string {
  const why: Record<TFlowOutcome, string> = {
    served: 'shown',
    other_placement: `shows in another placement (${detail})`,
    stopped: `onboarding here has ended: ${detail}`,
    completed: 'the user completed it',
    dismissed: 'the user dismissed it',
    exited: 'a publish ended it for the user',
    audience: detail ? `the user is not in its audience (segment ${detail})` : 'the user does not match its audience',
    outranked: `a flow with a higher priority is shown (${detail})`,
    capped: `the placement's frequency cap is reached: ${detail}`,
    cooling_off: `cooling off after a dismissal: ${detail}`,
  };
  return why[outcome] ?? outcome;
}

const STYLES = `
.debug{position:fixed;left:1rem;bottom:1rem;z-index:var(--doorstep-z-index,2147483000);max-width:min(28rem,calc(100vw - 2rem));max-height:50vh;overflow:auto;
padding:.6rem .8rem;border-radius:8px;background:#111421;color:#e8eaf2;font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace;box-shadow:0 8px 30px #0005}
.debug h2{font-size:12px;margin:0 0 .3rem;text-transform:uppercase;letter-spacing:.05em;color:#a5b4fc}
.debug dl{display:grid;grid-template-columns:auto 1fr;gap:0 .8rem;margin:0}
.debug dt{color:#9aa0b4}
.debug dd{margin:0}
.debug ul{margin:.4rem 0 0;padding:0 0 0 1rem}
.debug li{margin:.15rem 0}
`;

/**
 * Shows the debug panel in the element's shadow root and keeps it current: the environment, the
 * key's prefix, the placement, the flow, version and variant served, and why each other flow was
 * not. Follows the controller: explained again whenever it settles.
 */
export function showDebugView(root: ShadowRoot, controller: OnboardingController): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(STYLES);
  root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
  const panel = document.createElement('aside');
  panel.className = 'debug';
  panel.setAttribute('aria-label', 'Doorstep debug');
  root.getElementById('doorstep-debug')?.remove();
  panel.id = 'doorstep-debug';
  root.append(panel);
  const client = controller.client as DoorstepClient;
  const options = (controller as unknown as { options: { locale?: string; placement?: string } }).options;
  let shown = '';
  const render = async (state: TOnboardingState) => {
    if (state.busy || state.status === 'loading') return;
    // One explanation per distinct outcome of the controller, not one per state change.
    const seen = `${state.status}/${state.onboarding?.flow.key}/${state.finished}`;
    if (seen === shown || !panel.isConnected) return;
    shown = seen;
    try {
      panel.replaceChildren(...renderExplanation(await explain(client, controller.user, options), keyPrefix(client)));
    } catch (error) {
      panel.replaceChildren(heading(), text('p', `No explanation: ${error instanceof Error ? error.message : String(error)}`));
    }
  };
  controller.subscribe((state) => void render(state));
}

function text<K extends keyof HTMLElementTagNameMap>(tag: K, content: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  element.textContent = content;
  return element;
}

const heading = () => text('h2', 'Doorstep debug');

/** The explanation as nodes; every value goes in as text. */
export function renderExplanation(explained: TExplanation, key: string): Node[] {
  const facts = document.createElement('dl');
  const rows: Array<[string, string]> = [
    ['environment', `${explained.environmentName} (${explained.environmentKey})`],
    ['key', key],
    ['placement', explained.placement],
    ['flow', explained.flowKey ?? 'none'],
    ['version', explained.version === null ? '–' : String(explained.version)],
    ['variant', explained.variant ?? 'none'],
  ];
  for (const [name, value] of rows) facts.append(text('dt', name), text('dd', value));
  const others = document.createElement('ul');
  others.setAttribute('aria-label', 'Other flows');
  for (const decision of explained.decisions) {
    if (decision.outcome === 'served') continue;
    others.append(text('li', `${decision.name} (${decision.flowKey}): ${describeDecision(decision.outcome, decision.detail)}`));
  }
  return [heading(), facts, others];
}
