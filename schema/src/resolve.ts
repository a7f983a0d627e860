import { evalCondition, type TAttributes, type TCondition, type TSavedGroups } from './condition.ts';
import { runExperiment } from './experiment.ts';
import type { TNamespace } from './hashing.ts';
import type { TFlowContent } from './flow-content.ts';
import { localizeContent, type TLocalizedContent } from './localize.ts';

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

export type TPublishedFlow = {
  key: string;
  name: string;
  priority: number;
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
};

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
export type TStoredProgress = TFlowProgress & { version?: number | null; exited?: boolean };

export type TServedVariant = { experimentKey: string; key: string; sticky: boolean };

export type TResolvedOnboarding = Omit<TLocalizedContent, 'steps'> & {
  flow: { key: string; name: string };
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

/**
 * The onboarding a user should get now: the highest-priority published flow whose audience matches
 * and that the user has neither completed, dismissed nor exited, in the version they started if the
 * publish since kept them on it, localized, with steps filtered by their
 * show-if conditions. A finished flow whose `afterCompletion` is `stop` ends onboarding for the user,
 * whatever their attributes match now. Used by the runtime API and the studio preview alike.
 */
export function resolveOnboarding(snapshot: TRuntimeSnapshot, user: TRuntimeUser, options: TResolveOptions = {}): TResolvedOnboarding | null {
  const progressOf = (flowKey: string) => options.progressFor?.(flowKey);
  if (snapshot.flows.some((flow) => flow.content.afterCompletion === 'stop' && isFinished(progressOf(flow.key)))) return null;
  const attributes = evaluationAttributes(user);
  for (const flow of snapshot.flows) {
    if (flow.audience && !evalCondition(attributes, flow.audience, snapshot.savedGroups)) continue;
    const stored = progressOf(flow.key);
    if (isFinished(stored)) continue;
    const kept = keptVersionOf(flow, stored);
    const assigned = !kept && flow.experiment ? assignVariant(flow.experiment, attributes, options.stickyVariantFor?.(flow.experiment.key)) : null;
    const localized = localizeContent(kept?.content ?? assigned?.variant.content ?? flow.content, options.locale);
    return {
      ...localized,
      flow: { key: flow.key, name: flow.name },
      version: kept?.version ?? assigned?.variant.version ?? flow.version,
      variant: assigned ? { experimentKey: flow.experiment!.key, key: assigned.variant.key, sticky: assigned.sticky } : null,
      steps: localized.steps
        .filter((step) => !step.showIf || evalCondition(attributes, step.showIf, snapshot.savedGroups))
        .map(({ showIf: _showIf, ...step }) => step),
      progress: stored ? clientProgress(stored) : EMPTY_PROGRESS,
    };
  }
  return null;
}
