import type { TFlowContent } from './flow-content.ts';

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
