export { createDoorstep, DoorstepClient, DoorstepRequestError, type TDoorstepOptions } from './client.ts';
export { ONBOARDING_DOCUMENT, TRACK_DOCUMENT } from './documents.ts';
export type { TChange, TChangeListener, TEventSource, TEventSourceConstructor } from './live.ts';
export { memoryStorage, type TQueueStorage } from './storage.ts';
export type { TCallToAction, TClientProblem, TEvent, TOnboarding, TQueuedEvent, TUser } from './types.ts';
export {
  createOnboarding, isStepDone, isValidAnswer, OnboardingController,
  type TAnswer, type TOnboardingListener, type TOnboardingOptions, type TOnboardingQuestion, type TOnboardingSource, type TOnboardingState, type TOnboardingStep,
} from './headless.ts';
