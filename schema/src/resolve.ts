import { candidateFlows, type TAudienceIndex } from './audience-index.ts';
import { evalCondition, type TAttributes, type TCondition, type TSavedGroups } from './condition.ts';
import { runExperiment } from './experiment.ts';
import type { TNamespace } from './hashing.ts';
import type { TFlowContent } from './flow-content.ts';
import { localizeContent, type TLocalizedContent } from './localize.ts';
import { personalizeContent } from './personalize.ts';

export type TFlowExperiment = {
  key: string;
  /** The first variant is the control. */
  variants: Array<{ key: string; version: number; content: TFlowContent; weight: number }>;
  coverage: number;
  seed: string;
  hashAttribute: string;
  fallbackAttribute: string | null;
  namespace: TNamespace | null;
};

/** The placement a flow without one targets: the main onboarding. */
export const MAIN_PLACEMENT = 'main';

/** How often a placement may show a user a flow they have not seen: at most `maxShows` new flows per window, none for a while after a dismissal. */
export type TPlacementCaps = { maxShows: number | null; windowHours: number; cooloffHours: number | null };

export type TPublishedFlow = {
  key: string;
  name: string;
  priority: number;
  /** Where the flow shows (main, banner, modal, checklist or a named inline slot); main when unset. */
  placement?: string;
  /** The key of the audience's segment, for explanations. */
  audienceName?: string | null;
  /** The segment's or the inline condition; null targets everyone. */
  audience: TCondition | null;
  version: number;
  content: TFlowContent;
  /** A running experiment on this flow, if any. */
  experiment?: TFlowExperiment | null;
  /** Earlier versions that users who started them finish (publishes that kept in-flight users). */
  keptVersions?: ReadonlyArray<{ version: number; content: TFlowContent }>;
};

export type TRuntimeSnapshot = {
  /** Highest priority first; ties broken by key so resolution is deterministic. */
  flows: TPublishedFlow[];
  savedGroups: TSavedGroups;
  /** Frequency caps by placement; a placement without an entry has none. */
  placements?: ReadonlyMap<string, TPlacementCaps>;
  /** The flows of each placement, in priority order: built once per snapshot so serving a placement skips the others. */
  byPlacement?: ReadonlyMap<string, TPublishedFlow[]>;
  /** Each placement's flows indexed by the attribute values their audiences require (`indexAudiences`). */
  audienceIndex?: ReadonlyMap<string, TAudienceIndex<TPublishedFlow>>;
};

/** Groups a snapshot's flows (highest priority first) by placement, keeping their order. */
export function flowsByPlacement(flows: readonly TPublishedFlow[]): Map<string, TPublishedFlow[]> {
  const groups = new Map<string, TPublishedFlow[]>();
  for (const flow of flows) {
    const placement = placementOf(flow);
    const group = groups.get(placement);
    if (group) group.push(flow);
    else groups.set(placement, [flow]);
  }
  return groups;
}

export const placementOf = (flow: { placement?: string }) => flow.placement ?? MAIN_PLACEMENT;

export type TRuntimeUser = { id: string; attributes: TAttributes };
export type TFlowProgress = {
  /** The user has begun the flow: `flow_started`, or a completed or skipped step, an answer, flow_completed or flow_dismissed of it. */
  started: boolean;
  /** Steps completed or skipped, in the order they were done. */
  completedStepIds: string[];
  /** Checklist items ticked by their completion events. */
  checkedItemIds: string[];
  completed: boolean;
  dismissed: boolean;
};
export const EMPTY_PROGRESS: Readonly<TFlowProgress> = Object.freeze({ started: false, completedStepIds: [], checkedItemIds: [], completed: false, dismissed: false });

/** What the server stores beside the progress a client sees: the version the user is going through, and whether a publish ended the flow for them. */
export type TStoredProgress = TFlowProgress & { version?: number | null; exited?: boolean; /** ms since epoch */ dismissedAt?: number | null };

export type TServedVariant = { experimentKey: string; key: string; sticky: boolean };

export type TResolvedOnboarding = Omit<TLocalizedContent, 'steps'> & {
  flow: { key: string; name: string };
  placement: string;
  version: number;
  /** The experiment variant served, when the user is in a running experiment. */
  variant: TServedVariant | null;
  steps: Array<Omit<TLocalizedContent['steps'][number], 'showIf'>>;
  progress: TFlowProgress;
};

export type TResolveOptions = {
  locale?: string | null;
  progressFor?: (flowKey: string) => TStoredProgress | undefined;
  /** The variant this user was first served in an experiment: assignments stay put when weights change. */
  stickyVariantFor?: (experimentKey: string) => string | undefined;
  /** The placement asked for; main by default. */
  placement?: string;
  /** When this user was first served each flow (ms since epoch), for frequency caps; undefined for never. */
  servedAtFor?: (flowKey: string) => number | undefined;
  /** The time caps are measured from (ms since epoch); now by default. */
  now?: number;
  /** Every flow the user has progress in, when the caller has them at hand: lets serving skip flows the user never began. */
  progress?: ReadonlyMap<string, TStoredProgress>;
};

/** The variant of a flow's experiment this user gets, or null when they are not in it. */
export function assignVariant(experiment: TFlowExperiment, attributes: TAttributes, sticky?: string) {
  const stuck = sticky === undefined ? undefined : experiment.variants.find((v) => v.key === sticky);
  if (stuck) return { variant: stuck, sticky: true };
  const result = runExperiment(
    {
      key: experiment.key,
      variations: experiment.variants,
      weights: experiment.variants.map((v) => v.weight),
      coverage: experiment.coverage,
      seed: experiment.seed,
      hashVersion: 2,
      hashAttribute: experiment.hashAttribute,
      fallbackAttribute: experiment.fallbackAttribute ?? undefined,
      namespace: experiment.namespace ?? undefined,
    },
    { attributes },
  );
  return result.inExperiment ? { variant: result.value, sticky: false } : null;
}

export function sortFlowsByPriority<T extends { priority: number; key: string }>(flows: T[]): T[] {
  return [...flows].sort((a, b) => b.priority - a.priority || a.key.localeCompare(b.key));
}

/** Attributes the conditions see: the user's id is always addressable as `id`. */
export function evaluationAttributes(user: TRuntimeUser): TAttributes {
  return { ...user.attributes, id: user.id };
}

const isFinished = (progress: TStoredProgress | undefined) => !!progress && (progress.completed || progress.dismissed || !!progress.exited);

/**
 * The earlier version a user who started it keeps, when the flow's release moved on since. A version
 * an experiment serves is the experiment's to assign, so it is not taken from here.
 */
function keptVersionOf(flow: TPublishedFlow, progress: TStoredProgress | undefined) {
  const pinned = progress?.started ? progress.version : null;
  if (pinned == null || pinned === flow.version || !flow.keptVersions) return undefined;
  if (flow.experiment?.variants.some((v) => v.version === pinned)) return undefined;
  return flow.keptVersions.find((kept) => kept.version === pinned);
}

function clientProgress(stored: TStoredProgress): TFlowProgress {
  return { started: stored.started, completedStepIds: stored.completedStepIds, checkedItemIds: stored.checkedItemIds, completed: stored.completed, dismissed: stored.dismissed };
}

/** Why a published flow was or was not served to a user in a placement: the debug view's explanation. */
export type TFlowOutcome =
  | 'served' | 'other-placement' | 'stopped' | 'completed' | 'dismissed' | 'exited' | 'audience' | 'outranked' | 'capped' | 'cooling-off';
export type TFlowDecision = { flowKey: string; name: string; placement: string; outcome: TFlowOutcome; detail: string | null };

const HOUR_MS = 3600_000;

/** The frequency caps of one placement, from the user's history there: why no new flow may start now, if so. */
function placementLimit(
  caps: TPlacementCaps | undefined, flows: readonly TPublishedFlow[], options: TResolveOptions, now: number,
): { outcome: 'capped' | 'cooling-off'; detail: string } | null {
  if (!caps || (caps.maxShows === null && caps.cooloffHours === null)) return null;
  let shown = 0;
  let lastDismissedAt = -Infinity;
  for (const flow of flows) {
    const servedAt = options.servedAtFor?.(flow.key);
    if (servedAt !== undefined && servedAt > now - caps.windowHours * HOUR_MS) shown++;
    const dismissedAt = options.progressFor?.(flow.key)?.dismissedAt;
    if (dismissedAt != null && dismissedAt > lastDismissedAt) lastDismissedAt = dismissedAt;
  }
  if (caps.cooloffHours !== null && lastDismissedAt > now - caps.cooloffHours * HOUR_MS) {
    return { outcome: 'cooling-off', detail: `a flow here was dismissed less than ${caps.cooloffHours} h ago; new flows wait until ${new Date(lastDismissedAt + caps.cooloffHours * HOUR_MS).toISOString()}` };
  }
  if (caps.maxShows !== null && shown >= caps.maxShows) {
    return { outcome: 'capped', detail: `${shown} new flow${shown === 1 ? '' : 's'} shown here in the last ${caps.windowHours} h (at most ${caps.maxShows})` };
  }
  return null;
}

/**
 * The onboarding a user should get now in a placement (the main one by default): the highest-priority
 * published flow of that placement whose audience matches and that the user has neither completed,
 * dismissed nor exited, in the version they started if a publish since kept them on it, localized,
 * with steps filtered by their show-if conditions. A finished flow whose `afterCompletion` is `stop`
 * ends the placement for the user, whatever their attributes match now. A flow the user has not been
 * shown yet waits while the placement's frequency caps say so; one already shown carries on. Used by
 * the runtime API and the studio preview alike.
 */
export function resolveOnboarding(snapshot: TRuntimeSnapshot, user: TRuntimeUser, options: TResolveOptions = {}): TResolvedOnboarding | null {
  return decide(snapshot, user, options, null);
}

/** The same decision as `resolveOnboarding`, with the reason for every published flow (the debug view). */
export function explainOnboarding(
  snapshot: TRuntimeSnapshot, user: TRuntimeUser, options: TResolveOptions = {},
): { onboarding: TResolvedOnboarding | null; decisions: TFlowDecision[] } {
  const decisions: TFlowDecision[] = [];
  return { onboarding: decide(snapshot, user, options, decisions), decisions };
}

function decide(snapshot: TRuntimeSnapshot, user: TRuntimeUser, options: TResolveOptions, decisions: TFlowDecision[] | null): TResolvedOnboarding | null {
  const placement = options.placement ?? MAIN_PLACEMENT;
  const progressOf = (flowKey: string) => options.progressFor?.(flowKey);
  const note = (flow: TPublishedFlow, outcome: TFlowOutcome, detail: string | null = null) =>
    decisions?.push({ flowKey: flow.key, name: flow.name, placement: placementOf(flow), outcome, detail });
  // The debug view explains every flow; serving only needs the placement's own.
  const inPlacement = snapshot.byPlacement?.get(placement) ?? snapshot.flows.filter((flow) => placementOf(flow) === placement);
  const index = decisions ? undefined : snapshot.audienceIndex?.get(placement);
  const stoppedBy = index && options.progress
    ? firstStopper(index, options.progress)
    : inPlacement.find((flow) => flow.content.afterCompletion === 'stop' && isFinished(progressOf(flow.key)));
  if (stoppedBy && !decisions) return null;
  const attributes = evaluationAttributes(user);
  let limit: ReturnType<typeof placementLimit> | undefined;
  let served: TResolvedOnboarding | null = null;
  // Serving walks only the flows whose audience the user may match; explaining walks them all.
  for (const flow of decisions ? snapshot.flows : index ? candidateFlows(index, attributes) : inPlacement) {
    if (placementOf(flow) !== placement) { note(flow, 'other-placement', placementOf(flow)); continue; }
    if (stoppedBy) { note(flow, 'stopped', `${stoppedBy.key} is finished and ends onboarding here (after it: stop)`); continue; }
    const stored = progressOf(flow.key);
    if (stored && isFinished(stored)) { note(flow, stored.completed ? 'completed' : stored.dismissed ? 'dismissed' : 'exited'); continue; }
    if (flow.audience && !evalCondition(attributes, flow.audience, snapshot.savedGroups)) { note(flow, 'audience', flow.audienceName ?? null); continue; }
    if (served) { note(flow, 'outranked', served.flow.key); continue; }
    if (options.servedAtFor?.(flow.key) === undefined) {
      limit ??= placementLimit(snapshot.placements?.get(placement), inPlacement, options, options.now ?? Date.now());
      if (limit) { note(flow, limit.outcome, limit.detail); continue; }
    }
    served = serveFlow(snapshot, flow, stored, attributes, options, placement);
    note(flow, 'served');
    if (!decisions) return served;
  }
  return served;
}

// The parts of an answer that do not depend on the user are the same objects for every user, so the
// API's runtime path serializes each once (api/src/runtime/selection-serializer.ts).
const identities = new WeakMap<TPublishedFlow, TResolvedOnboarding['flow']>();
const clientSteps = new WeakMap<TLocalizedContent, TResolvedOnboarding['steps']>();

function identityOf(flow: TPublishedFlow): TResolvedOnboarding['flow'] {
  let identity = identities.get(flow);
  if (!identity) identities.set(flow, (identity = { key: flow.key, name: flow.name }));
  return identity;
}

/** The steps a user is shown: those whose show-if matches. Unfiltered, the shared array itself. */
function stepsShown(localized: TLocalizedContent, attributes: TAttributes, savedGroups: TRuntimeSnapshot['savedGroups']): TResolvedOnboarding['steps'] {
  let steps = clientSteps.get(localized);
  if (!steps) clientSteps.set(localized, (steps = localized.steps.map(({ showIf: _showIf, ...step }) => step)));
  if (!localized.steps.some((step) => step.showIf)) return steps;
  return steps.filter((_step, index) => {
    const showIf = localized.steps[index].showIf;
    return !showIf || evalCondition(attributes, showIf, savedGroups);
  });
}

/** The highest-priority finished flow of the placement that ends it (`afterCompletion: stop`), from the user's own progress. */
function firstStopper(index: TAudienceIndex<TPublishedFlow>, progress: ReadonlyMap<string, TStoredProgress>): TPublishedFlow | undefined {
  let first: TPublishedFlow | undefined;
  for (const [flowKey, stored] of progress) {
    const flow = index.byKey.get(flowKey);
    if (!flow || flow.content.afterCompletion !== 'stop' || !isFinished(stored)) continue;
    if (!first || index.position.get(flow)! < index.position.get(first)!) first = flow;
  }
  return first;
}

function serveFlow(
  snapshot: TRuntimeSnapshot, flow: TPublishedFlow, stored: TStoredProgress | undefined, attributes: TAttributes, options: TResolveOptions, placement: string,
): TResolvedOnboarding {
  const kept = keptVersionOf(flow, stored);
  const assigned = !kept && flow.experiment ? assignVariant(flow.experiment, attributes, options.stickyVariantFor?.(flow.experiment.key)) : null;
  const localized = personalizeContent(localizeContent(kept?.content ?? assigned?.variant.content ?? flow.content, options.locale), attributes);
  return {
    ...localized,
    flow: identityOf(flow),
    placement,
    version: kept?.version ?? assigned?.variant.version ?? flow.version,
    variant: assigned ? { experimentKey: flow.experiment!.key, key: assigned.variant.key, sticky: assigned.sticky } : null,
    steps: stepsShown(localized, attributes, snapshot.savedGroups),
    progress: stored ? clientProgress(stored) : EMPTY_PROGRESS,
  };
}
