import { z } from 'zod';
import { ZEventName, ZSlug } from './flow-content.ts';
import { refineStorableJson, storableString } from './text.ts';

export const MAX_TRACK_BATCH = 100;
/** Ids of the events the server records for what it derived (README, "Event lifecycle"). */
export const DERIVED_EVENT_ID_PREFIX = 'derived:';
export const MAX_ATTRIBUTES_BYTES = 16_384;

const ZUserId = storableString().min(1).max(200);
const jsonSize = (value: unknown) => JSON.stringify(value ?? null).length;

/** Apps name attributes freely (`plan-type`, `signup.source`); only `$`, which reads as an operator, and whitespace are out. */
const ZRuntimeAttributeName = z.string().min(1).max(64).regex(/^[^\s$]\S*$/, 'Attribute names have no spaces and do not start with "$"');

export const ZAttributes = z
  .record(ZRuntimeAttributeName, z.unknown())
  .refine((a) => jsonSize(a) <= MAX_ATTRIBUTES_BYTES, `Attributes are limited to ${MAX_ATTRIBUTES_BYTES} bytes of JSON`)
  .superRefine(refineStorableJson);

/** The hex HMAC-SHA256 of a user id that the app's backend sends when identity verification is on. */
const ZUserHash = z.string().max(128).nullish();

/**
 * A visitor before sign-in: `guest_` and a random UUID, made by the client and kept in the browser.
 * Only ids of this form can be merged into a user (`identify`), and only they go unsigned under
 * identity verification: nobody can sign an id made up in a browser, and a signed user's profile
 * must never be the source of a merge, or anyone could read it by merging it into their own.
 */
const GUEST_ID = /^guest_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const isGuestId = (id: string): boolean => GUEST_ID.test(id);
export const ZGuestId = z.string().max(64).refine(isGuestId, 'A guest id is "guest_" followed by a UUID, as the client makes it');

export const ZIdentifyInput = z.object({
  guestId: ZGuestId,
  userId: ZUserId.refine((id) => !isGuestId(id), 'A guest can be merged into a user, not into another guest'),
  userHash: ZUserHash,
});
export type TIdentifyInput = z.output<typeof ZIdentifyInput>;

export const ZRuntimeUser = z.object({
  id: ZUserId,
  attributes: ZAttributes.nullish().transform((a) => a ?? {}),
  hash: ZUserHash,
});

/** An answer as it may be stored in an attribute. */
export const ZAnswerValue = z.union([
  storableString().max(1000),
  z.number().finite(),
  z.boolean(),
  z.array(storableString().max(200)).max(20),
]);

export const ZTrackEvent = z
  .object({
    // The server records what it derives under ids of its own; a client must not be able to take them.
    id: storableString().min(1).max(128).refine((id) => !id.startsWith(DERIVED_EVENT_ID_PREFIX), `Event ids starting with "${DERIVED_EVENT_ID_PREFIX}" are the server's`),
    userId: ZUserId,
    userHash: ZUserHash,
    name: ZEventName,
    timestamp: z.coerce.date().nullish(),
    flowKey: ZSlug.nullish(),
    stepId: ZSlug.nullish(),
    questionId: ZSlug.nullish(),
    value: z.unknown().optional().superRefine(refineStorableJson),
    properties: z
      .record(z.string().max(64), z.unknown())
      .nullish()
      .refine((p) => jsonSize(p) <= 8192, 'Properties are limited to 8192 bytes of JSON')
      .superRefine(refineStorableJson),
  })
  .superRefine((event, ctx) => {
    const needs = (field: 'flowKey' | 'stepId' | 'questionId') => {
      if (!event[field]) ctx.addIssue({ code: 'custom', path: [field], message: `${event.name} needs ${field}` });
    };
    // Step and answer events may omit flowKey; the API infers it when one published flow matches.
    if (event.name.startsWith('step_')) needs('stepId');
    if (event.name === 'question_answered') {
      needs('questionId');
      if (!ZAnswerValue.safeParse(event.value).success) {
        ctx.addIssue({ code: 'custom', path: ['value'], message: 'An answer is a string, number, boolean or list of strings' });
      }
    }
    if (event.name.startsWith('flow_')) needs('flowKey');
  });

export const ZTrackBatch = z
  .array(ZTrackEvent)
  .min(1)
  .max(MAX_TRACK_BATCH)
  .superRefine((events, ctx) => {
    // Two events with one id: only the first would be stored, yet both would act.
    const seen = new Set<string>();
    events.forEach((event, index) => {
      if (seen.has(event.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `Event id "${event.id}" appears twice in this batch` });
      seen.add(event.id);
    });
  });
export type TTrackEvent = z.output<typeof ZTrackEvent>;
export type TRuntimeUserInput = z.output<typeof ZRuntimeUser>;
