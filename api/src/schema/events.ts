import { ZTrackBatch } from '@doorstep/schema';
import { mayActAs, unverifiedEvents } from '../auth/identity.ts';
import { builder } from '../builder.ts';

const TrackEventInput = builder.inputType('TrackEventInput', {
  fields: (t) => ({
    id: t.id({ required: true, description: 'Client-generated; resending an event with the same id has no further effect' }),
    userId: t.id({ required: true }),
    userHash: t.string({ description: 'HMAC-SHA256 of userId; required when identity verification is on (see OnboardingUserInput.hash)' }),
    name: t.string({ required: true, description: 'flow_started, step_viewed, step_completed, step_skipped, question_answered, flow_completed, flow_dismissed, or any activation event' }),
    timestamp: t.field({ type: 'DateTime' }),
    flowKey: t.string(),
    stepId: t.string(),
    questionId: t.string(),
    value: t.field({ type: 'JSON', description: 'The answer, for question_answered' }),
    properties: t.field({ type: 'JSON' }),
  }),
});

const TrackResult = builder.objectRef<{ accepted: number; duplicates: number }>('TrackResult').implement({
  fields: (t) => ({
    accepted: t.exposeInt('accepted'),
    duplicates: t.exposeInt('duplicates', { description: 'Accepted events already received earlier (same id)' }),
  }),
});

builder.mutationField('track', (t) =>
  t.withAuth({ publicKey: true }).field({
    skipTypeScopes: true,
    type: TrackResult,
    description: [
      'Runtime (public key): record events, at most 100 per call; ids make retries idempotent.',
      'Lifecycle events name their flow: flow_started, step_viewed, step_completed and step_skipped (stepId), question_answered (questionId, value),',
      'flow_completed, flow_dismissed. Any other name is a product event: it completes the steps and ticks the checklist items whose completion event it is.',
      'The server derives the rest: an answer sets the attribute its question is bound to; a started flow whose required steps are done is completed.',
    ].join(' '),
    args: { events: t.arg({ type: [TrackEventInput], required: true }).validate(ZTrackBatch) },
    resolve: async (_root, args, ctx) => {
      const { environmentId, identitySecret } = ctx.principal;
      const forged = args.events.flatMap((e, index) => (mayActAs(identitySecret, e.userId, e.userHash) ? [] : [index]));
      if (forged.length > 0) throw unverifiedEvents(forged);
      const snapshot = await ctx.services.snapshots.get(environmentId);
      // Answered once committed, in a transaction shared with the requests arriving alongside.
      const result = await ctx.services.events.submit(snapshot, args.events);
      ctx.services.profiles.changed(environmentId, result.affectedUsers);
      return { accepted: result.accepted, duplicates: result.duplicates };
    },
  }),
);
