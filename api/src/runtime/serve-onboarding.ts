import { resolveOnboarding, type TAttributes, type TResolvedOnboarding } from '@doorstep/schema';
import type { TServices } from '../services.ts';
import type { TEnvironmentSnapshot } from './snapshot-store.ts';

/**
 * Serving the onboarding a user gets now, for every runtime surface (GraphQL, OFREP): the
 * environment's snapshot, the user's profile (answers override the app's attributes, progress and
 * sticky variants), the pure resolution, then the first-serve and exposure bookkeeping.
 */
export async function serveOnboarding(
  services: TServices, environmentId: string, user: { id: string; attributes: TAttributes }, locale: string | null,
): Promise<{ onboarding: TResolvedOnboarding | null; snapshot: TEnvironmentSnapshot }> {
  const [snapshot, profile] = await Promise.all([services.snapshots.get(environmentId), services.profiles.get(environmentId, user.id)]);
  const runtimeUser = { id: user.id, attributes: { ...user.attributes, ...profile.answers } };
  const onboarding = resolveOnboarding(snapshot, runtimeUser, {
    locale,
    progressFor: (flowKey) => profile.progress.get(flowKey),
    stickyVariantFor: (experimentKey) => profile.exposures.get(experimentKey),
  });
  if (onboarding) services.serves.record(snapshot, runtimeUser, onboarding, profile);
  return { onboarding, snapshot };
}
