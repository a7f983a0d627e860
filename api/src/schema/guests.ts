import { ZIdentifyInput } from '@doorstep/schema';
import { mayActAs, unverifiedUser } from '../auth/identity.ts';
import { builder } from '../builder.ts';
import { mergeGuest, type TGuestMergeResult } from '../domain/guest-merge.ts';

const IdentifyResult = builder.objectRef<TGuestMergeResult>('IdentifyResult').implement({
  fields: (t) => ({
    merged: t.exposeBoolean('merged', { description: 'False when this guest had already been merged into this user: nothing changed' }),
    userId: t.exposeID('userId'),
  }),
});

builder.mutationField('identify', (t) =>
  t.withAuth({ publicKey: true }).field({
    skipTypeScopes: true,
    type: IdentifyResult,
    description: [
      "Runtime (public key): at sign-in, merge a guest's progress, answers, experiment variants, first serves and events into the user, once.",
      'Repeating it for the same guest and user changes nothing (merged: false); a guest already merged into another user is refused with CONFLICT.',
      'Only a guest id ("guest_" + UUID) can be merged. With identity verification on, userHash must sign userId.',
    ].join(' '),
    args: t.validate(
      { guestId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }), userHash: t.arg.string({ description: 'HMAC-SHA256 of userId (see OnboardingUserInput.hash)' }) },
      ZIdentifyInput,
    ),
    resolve: async (_root, { guestId, userId, userHash }, ctx) => {
      const { environmentId, identitySecret } = ctx.principal;
      if (!mayActAs(identitySecret, userId, userHash)) throw unverifiedUser('userHash');
      // Exposures, first serves and the first sighting of the guest may still wait in this process's
      // batches: written after the merge, they would bring the merged guest back.
      await Promise.all([ctx.services.serves.flush(), ctx.services.profiles.flush()]);
      const result = await mergeGuest(ctx.prisma, environmentId, guestId, userId);
      ctx.services.profiles.changed(environmentId, [guestId, userId]);
      return result;
    },
  }),
);
