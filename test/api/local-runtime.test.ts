import { LocalRuntime, type TLocalEvent } from '@doorstep/schema';
import { describe, expect, it } from 'vitest';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

const ONBOARDING = 'query($user: OnboardingUserInput!) { onboarding(user: $user) { flow { key } progress { started completedStepIds checkedItemIds completed dismissed } } }';
const TRACK = 'mutation($events: [TrackEventInput!]!) { track(events: $events) { accepted } }';

/** Event sequences that exercise routing by answers, completion by product events, dismissal and what follows. */
const JOURNEYS: Record<string, TLocalEvent[]> = {
  'routed by an answer, completed by product events': [
    { name: 'flow_started', flowKey: 'self-serve' },
    { name: 'question_answered', flowKey: 'self-serve', questionId: 'company-size', value: 500 },
    { name: 'demo_booked' },
    { name: 'flow_started', flowKey: 'sales-assisted' },
    { name: 'warehouse_connected' },
  ],
  'a developer who dismisses': [
    { name: 'question_answered', flowKey: 'self-serve', questionId: 'role', value: 'developer' },
    { name: 'flow_started', flowKey: 'developer-quickstart' },
    { name: 'step_completed', flowKey: 'developer-quickstart', stepId: 'create-api-key' },
    { name: 'flow_dismissed', flowKey: 'developer-quickstart' },
  ],
  'product events before the flow starts': [
    { name: 'first_event_received' },
    { name: 'dashboard_created' },
    { name: 'flow_started', flowKey: 'self-serve' },
    { name: 'step_skipped', flowKey: 'self-serve', stepId: 'invite-team' },
    { name: 'step_completed', flowKey: 'self-serve', stepId: 'about-you' },
  ],
};

describe.each(DATABASE_KINDS)('the in-memory runtime of the studio preview on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  it.each(Object.entries(JOURNEYS))('should agree with the API after every event of a journey: %s', async (name, events) => {
    const environment = await api.database.db.prisma.environment.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, key: 'production' } });
    const local = new LocalRuntime(await api.app.services.snapshots.get(environment.id));
    const userId = `journey-${name.length}`;
    const compare = async () => {
      const served = (await api.gql(ws.publicKey, ONBOARDING, { user: { id: userId } })).data!.onboarding;
      const resolved = local.resolve({ id: userId, attributes: {} }, null);
      expect(resolved && { flow: { key: resolved.flow.key }, progress: resolved.progress }).toEqual(served);
    };
    await compare();
    for (const [index, event] of events.entries()) {
      const res = await api.gql(ws.publicKey, TRACK, { events: [{ id: `${userId}-${index}`, userId, ...event }] });
      expect(res.errors).toBeUndefined();
      local.apply(userId, event);
      await compare();
    }
  });
});
