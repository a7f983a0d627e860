import { evalCondition, type TAttributes, type TCondition, type TSavedGroups } from './condition.ts';
import type { TFlowContent } from './flow-content.ts';
import { localizeContent, type TLocalizedContent } from './localize.ts';

export type TPublishedFlow = {
  key: string;
  name: string;
  priority: number;
  /** The segment's or the inline condition; null targets everyone. */
  audience: TCondition | null;
  version: number;
  content: TFlowContent;
};

export type TRuntimeSnapshot = {
  /** Highest priority first; ties broken by key so resolution is deterministic. */
  flows: TPublishedFlow[];
  savedGroups: TSavedGroups;
};

export type TRuntimeUser = { id: string; attributes: TAttributes };
export type TFlowProgress = { completedStepIds: string[]; completed: boolean; dismissed: boolean };
export const EMPTY_PROGRESS: TFlowProgress = Object.freeze({ completedStepIds: [], completed: false, dismissed: false }) as TFlowProgress;

export type TResolvedOnboarding = Omit<TLocalizedContent, 'steps'> & {
  flow: { key: string; name: string };
  version: number;
  steps: Array<Omit<TLocalizedContent['steps'][number], 'showIf'>>;
  progress: TFlowProgress;
};

export type TResolveOptions = {
  locale?: string | null;
  progressFor?: (flowKey: string) => TFlowProgress | undefined;
};

export function sortFlowsByPriority<T extends { priority: number; key: string }>(flows: T[]): T[] {
  return [...flows].sort((a, b) => b.priority - a.priority || a.key.localeCompare(b.key));
}

/** Attributes the conditions see: the user's id is always addressable as `id`. */
export function evaluationAttributes(user: TRuntimeUser): TAttributes {
  return { ...user.attributes, id: user.id };
}

/**
 * The onboarding a user should get now: the highest-priority published flow whose audience matches
 * and that the user has neither completed nor dismissed, localized, with steps filtered by their
 * show-if conditions. Used by the runtime API and the studio preview alike.
 */
export function resolveOnboarding(snapshot: TRuntimeSnapshot, user: TRuntimeUser, options: TResolveOptions = {}): TResolvedOnboarding | null {
  const attributes = evaluationAttributes(user);
  for (const flow of snapshot.flows) {
    if (flow.audience && !evalCondition(attributes, flow.audience, snapshot.savedGroups)) continue;
    const progress = options.progressFor?.(flow.key) ?? EMPTY_PROGRESS;
    if (progress.completed || progress.dismissed) continue;
    const localized = localizeContent(flow.content, options.locale);
    return {
      ...localized,
      flow: { key: flow.key, name: flow.name },
      version: flow.version,
      steps: localized.steps
        .filter((step) => !step.showIf || evalCondition(attributes, step.showIf, snapshot.savedGroups))
        .map(({ showIf: _showIf, ...step }) => step),
      progress,
    };
  }
  return null;
}
