import { BUILT_IN_EVENTS, type TFlowContent } from './flow-content.ts';
import type { TFlowProgress } from './resolve.ts';

/**
 * The steps whose completion completes a flow: those that cannot be skipped and show to everyone.
 * A step with a show-if condition never holds a flow open, because whether it shows can depend on
 * attributes only the app knows. When every unconditional step is skippable, all of them count
 * (skipping one counts as doing it); a flow whose steps are all conditional completes only when the
 * app sends `flow_completed`.
 */
export function requiredStepIds(content: TFlowContent): string[] {
  const unconditional = content.steps.filter((step) => !step.showIf);
  const required = unconditional.filter((step) => !step.skippable);
  return (required.length > 0 ? required : unconditional).map((step) => step.id);
}

/** Whether the steps done so far (completed or skipped) complete the flow. */
export function stepsCompleteFlow(required: readonly string[], doneStepIds: readonly string[]): boolean {
  return required.length > 0 && required.every((id) => doneStepIds.includes(id));
}

export type TCompletionTargets = { stepIds: string[]; checklistItemIds: string[] };

/** What each event name completes in one flow: steps with that completion event and checklist items it ticks. */
export function completionTargets(content: TFlowContent): Map<string, TCompletionTargets> {
  const targets = new Map<string, TCompletionTargets>();
  const entry = (event: string) => {
    let found = targets.get(event);
    if (!found) targets.set(event, (found = { stepIds: [], checklistItemIds: [] }));
    return found;
  };
  for (const step of content.steps) if (step.completionEvent) entry(step.completionEvent).stepIds.push(step.id);
  for (const item of content.checklist?.items ?? []) entry(item.completionEvent).checklistItemIds.push(item.id);
  return targets;
}

/** What one event does to a user's progress in one flow (see the README's event lifecycle). */
export type TProgressChange = { started: boolean; stepIds: string[]; itemIds: string[]; completed: boolean; dismissed: boolean };

const LIFECYCLE = new Set<string>(BUILT_IN_EVENTS);

/**
 * The progress changes an event makes, by flow key: a lifecycle event changes the flow it names; a
 * product event completes steps and ticks items in every flow whose content waits for it.
 */
export function progressChanges(
  event: { name: string; flowKey?: string | null; stepId?: string | null },
  flows: ReadonlyArray<{ key: string; content: TFlowContent }>,
): Map<string, TProgressChange> {
  const changes = new Map<string, TProgressChange>();
  if (LIFECYCLE.has(event.name)) {
    if (!event.flowKey || event.name === 'step_viewed') return changes;
    const step = event.name === 'step_completed' || event.name === 'step_skipped' ? event.stepId : null;
    changes.set(event.flowKey, {
      started: true, stepIds: step ? [step] : [], itemIds: [], completed: event.name === 'flow_completed', dismissed: event.name === 'flow_dismissed',
    });
    return changes;
  }
  for (const flow of flows) {
    const targets = completionTargets(flow.content).get(event.name);
    if (targets) changes.set(flow.key, { started: false, stepIds: targets.stepIds, itemIds: targets.checklistItemIds, completed: false, dismissed: false });
  }
  return changes;
}

/** A progress after a change: lists merged in order, flags only ever set, completion derived. */
export function applyProgressChange(progress: TFlowProgress, change: TProgressChange, required: readonly string[]): TFlowProgress {
  const add = (list: string[], more: string[]) => [...list, ...more.filter((id) => !list.includes(id))];
  const started = progress.started || change.started;
  const completedStepIds = add(progress.completedStepIds, change.stepIds);
  return {
    started,
    completedStepIds,
    checkedItemIds: add(progress.checkedItemIds, change.itemIds),
    completed: progress.completed || change.completed || (started && stepsCompleteFlow(required, completedStepIds)),
    dismissed: progress.dismissed || change.dismissed,
  };
}
