import {
  explainOnboarding, MAIN_PLACEMENT, resolveOnboarding,
  type TAttributes, type TFlowDecision, type TResolveOptions, type TResolvedOnboarding, type TRuntimeUser,
} from '@doorstep/schema';
import type { TServices } from '../services.ts';
import type { TProfileState } from './profile-store.ts';
import type { TEnvironmentSnapshot } from './snapshot-store.ts';

type TRuntimeRequestUser = { id: string; attributes: TAttributes };
type TServing = { snapshot: TEnvironmentSnapshot; profile: TProfileState; user: TRuntimeUser; options: TResolveOptions };

/**
 * What every runtime surface (GraphQL, OFREP) starts from: the environment's snapshot, the user's
 * profile (answers override the app's attributes; progress, sticky variants and when each flow was
 * first served), and the resolution options built from them.
 */
async function prepare(services: TServices, environmentId: string, user: TRuntimeRequestUser, locale: string | null): Promise<TServing> {
  const [snapshot, profile] = await Promise.all([services.snapshots.get(environmentId), services.profiles.get(environmentId, user.id)]);
  return {
    snapshot,
    profile,
    user: { id: user.id, attributes: { ...user.attributes, ...profile.answers } },
    options: {
      locale,
      progressFor: (flowKey) => profile.progress.get(flowKey),
      progress: profile.progress,
      stickyVariantFor: (experimentKey) => profile.exposures.get(experimentKey),
      servedAtFor: (flowKey) => profile.servedFlows.get(flowKey),
    },
  };
}

/** The onboarding a user gets now in one placement (main by default), with the first-serve and exposure bookkeeping. */
export async function serveOnboarding(
  services: TServices, environmentId: string, user: TRuntimeRequestUser, locale: string | null, placement: string = MAIN_PLACEMENT,
): Promise<{ onboarding: TResolvedOnboarding | null; snapshot: TEnvironmentSnapshot }> {
  const serving = await prepare(services, environmentId, user, locale);
  const onboarding = resolveOnboarding(serving.snapshot, serving.user, { ...serving.options, placement });
  // While the database cannot take the serves as fast as they come, requests wait for room: none is dropped.
  if (onboarding && !services.serves.record(serving.snapshot, serving.user, onboarding, serving.profile)) await services.serves.whenRoom();
  return { onboarding, snapshot: serving.snapshot };
}

/**
 * What a user gets now in each placement asked for (every placement with a published flow when
 * `placements` is null), from one profile read; placements with nothing to show are left out.
 */
export async function serveOnboardings(
  services: TServices, environmentId: string, user: TRuntimeRequestUser, locale: string | null, placements: readonly string[] | null,
): Promise<TResolvedOnboarding[]> {
  const serving = await prepare(services, environmentId, user, locale);
  const served: TResolvedOnboarding[] = [];
  for (const placement of placements ?? serving.snapshot.placementKeys) {
    const onboarding = resolveOnboarding(serving.snapshot, serving.user, { ...serving.options, placement });
    if (!onboarding) continue;
    if (!services.serves.record(serving.snapshot, serving.user, onboarding, serving.profile)) await services.serves.whenRoom();
    served.push(onboarding);
  }
  return served;
}

/**
 * The decision for one placement with the reason for every published flow, for the debug view. It
 * records nothing: explaining must not change what the user is served next.
 */
export async function explainServe(
  services: TServices, environmentId: string, user: TRuntimeRequestUser, locale: string | null, placement: string,
): Promise<{ onboarding: TResolvedOnboarding | null; decisions: TFlowDecision[]; snapshot: TEnvironmentSnapshot }> {
  const serving = await prepare(services, environmentId, user, locale);
  return { ...explainOnboarding(serving.snapshot, serving.user, { ...serving.options, placement }), snapshot: serving.snapshot };
}
