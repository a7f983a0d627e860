import { applyProgressChange, progressChanges, requiredStepIds } from './completion.ts';
import type { TAttributes } from './condition.ts';
import { EMPTY_PROGRESS, resolveOnboarding, type TFlowProgress, type TResolvedOnboarding, type TRuntimeSnapshot, type TRuntimeUser } from './resolve.ts';
import { withAttribute } from './answers.ts';

export type TLocalEvent = { name: string; flowKey?: string | null; stepId?: string | null; questionId?: string | null; value?: unknown };

/**
 * The runtime contract played in memory: the API's resolution and its progress rules, without
 * storage. The studio preview runs the drop-in UI on it, so what an author clicks through is what a
 * user of the published flow gets. Experiments are left out: the preview shows the draft itself.
 */
export class LocalRuntime {
  private readonly answers = new Map<string, TAttributes>();
  private readonly progress = new Map<string, Map<string, TFlowProgress>>();

  constructor(private readonly snapshot: TRuntimeSnapshot) {}

  resolve(user: TRuntimeUser, locale: string | null): TResolvedOnboarding | null {
    const progress = this.progress.get(user.id);
    return resolveOnboarding(this.snapshot, { id: user.id, attributes: { ...user.attributes, ...this.answers.get(user.id) } }, {
      locale,
      progressFor: (flowKey) => progress?.get(flowKey),
    });
  }

  apply(userId: string, event: TLocalEvent): void {
    if (event.name === 'question_answered' && event.flowKey && event.questionId) {
      const question = this.snapshot.flows.find((f) => f.key === event.flowKey)?.content.questions.find((q) => q.id === event.questionId);
      if (question) this.answers.set(userId, withAttribute(this.answers.get(userId) ?? {}, question.attribute, event.value));
    }
    const perFlow = this.progress.get(userId) ?? new Map<string, TFlowProgress>();
    for (const [flowKey, change] of progressChanges(event, this.snapshot.flows)) {
      const content = this.snapshot.flows.find((f) => f.key === flowKey)?.content;
      if (!content) continue;
      perFlow.set(flowKey, applyProgressChange(perFlow.get(flowKey) ?? EMPTY_PROGRESS, change, requiredStepIds(content)));
    }
    this.progress.set(userId, perFlow);
  }

  reset(): void {
    this.answers.clear();
    this.progress.clear();
  }
}
