import {
  ZAcceptInviteInput, ZAllowedOrigins, ZChangePasswordInput, ZCondition, ZEnvironmentInput, ZExperimentInput, ZFlowCreateInput, ZInviteInput, ZPlacementInput,
  ZPlacementKey, ZPriority, ZResetPasswordInput, ZRole, ZSegmentInput, ZSetupInput, ZSignInInput, ZSlug, type TCondition,
} from '@doorstep/schema';
import { z } from 'zod';

/*
 * Form schemas: the shared input schemas, shaped for flat HTML forms (superforms reads FormData
 * against them, so every field is a string, a number or a list of those).
 */

export const ZSignInForm = ZSignInInput;
export const ZSetupForm = ZSetupInput;
export const ZAcceptForm = ZAcceptInviteInput.omit({ token: true });
export const ZResetForm = ZResetPasswordInput.omit({ token: true });
export const ZChangePasswordForm = ZChangePasswordInput;

export const ZCreateFlowForm = ZFlowCreateInput.pick({ key: true, name: true });
/** Archive and restore name the flow only. */
export const ZFlowKeyForm = z.object({ key: ZSlug });

/** A condition edited as JSON text; `describe` words its problems the way the page always has. */
const conditionText = (notJson: string, describe: (issues: z.core.$ZodIssue[]) => string) =>
  z.string().superRefine((text, ctx) => {
    const parsed = parseCondition(text);
    if (parsed === 'not-json') ctx.addIssue({ code: 'custom', message: notJson });
    else if (!parsed.success) ctx.addIssue({ code: 'custom', message: describe(parsed.error.issues) });
  });
function parseCondition(text: string) {
  try {
    return ZCondition.safeParse(JSON.parse(text));
  } catch {
    return 'not-json' as const;
  }
}
/** The condition of a form that passed validation, so its text is known to parse. */
export function conditionOf(text: string): TCondition {
  return ZCondition.parse(JSON.parse(text));
}

export const AUDIENCE_KINDS = ['everyone', 'segment', 'condition'] as const;
export const ZFlowSettingsForm = z.object({
  name: ZFlowCreateInput.shape.name,
  priority: ZPriority,
  placement: ZPlacementKey,
  audienceKind: z.enum(AUDIENCE_KINDS),
  segmentKey: z.string(),
  condition: z.string(),
}).superRefine((form, ctx) => {
  // Only the chosen audience is checked: the others keep whatever the author typed.
  if (form.audienceKind !== 'condition') return;
  const checked = conditionText('This is not valid JSON', (issues) => issues[0]?.message ?? 'Invalid condition').safeParse(form.condition);
  for (const issue of checked.error?.issues ?? []) ctx.addIssue({ code: 'custom', path: ['condition'], message: issue.message });
});

export const ZCreateSegmentForm = z.object({ name: z.string().trim().min(1, 'Give the segment a name').max(120), key: ZSegmentInput.shape.key });
export const ZSegmentForm = z.object({
  name: ZSegmentInput.shape.name,
  condition: conditionText('The condition is not valid JSON.', (issues) => issues.map((i) => `${i.path.join('.') || 'condition'}: ${i.message}`).join('; ')),
});

export const ZEnvironmentForm = ZEnvironmentInput;
/**
 * A placement's caps as a form: empty number fields mean "no cap". Plain optional numbers, not the
 * API schema's nullish transforms, which superforms cannot read form fields by.
 */
export const ZPlacementForm = z.object({
  key: ZPlacementKey,
  name: ZPlacementInput.shape.name,
  maxShows: z.number().int().min(1, 'At least 1, or leave it empty for no cap').max(100).optional(),
  windowHours: z.number().int().refine((hours) => hours === 24 || hours === 168, 'A day or a week').default(24),
  cooloffHours: z.number().int().min(1, 'At least 1 hour, or leave it empty for none').max(24 * 90).optional(),
});
/** Turning identity verification on (or rotating its secret) and off name the environment only. */
export const ZEnvironmentKeyForm = z.object({ environmentKey: ZSlug });

/** Origins are typed one a line or comma separated; the API takes them as a list. */
export const originList = (text: string) => text.split(/[\s,]+/).filter(Boolean);
/** The API's own rules, applied here so that a problem names the origin it is about (the API says `allowedOrigins.2`). */
function originsProblem(text: string) {
  const origins = originList(text);
  const issue = ZAllowedOrigins.safeParse(origins).error?.issues[0];
  if (!issue) return undefined;
  return typeof issue.path[0] === 'number' ? `“${origins[issue.path[0]]}”: ${issue.message}` : issue.message;
}

export const API_KEY_KINDS = ['public', 'secret'] as const;
/** Flat on purpose: the form shows the environment and origins or the role, as the kind asks, and the action builds the API's union. */
export const ZApiKeyForm = z.object({
  name: z.string(), kind: z.enum(API_KEY_KINDS), environmentKey: z.string().default(''), allowedOrigins: z.string().default(''), role: ZRole.default('viewer'),
}).superRefine((form, ctx) => {
  // Secret keys take no origins: what the public key's field may still hold is not sent, so it is not checked.
  const problem = form.kind === 'public' ? originsProblem(form.allowedOrigins) : undefined;
  if (problem) ctx.addIssue({ code: 'custom', path: ['allowedOrigins'], message: problem });
});
/** Replaces a public key's origins; an empty text allows any origin. */
export const ZApiKeyOriginsForm = z.object({
  id: z.string().min(1),
  allowedOrigins: z.string().default('').superRefine((text, ctx) => {
    const problem = originsProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
});
export const ZInviteForm = ZInviteInput;
/** Revoking a key and removing a member name it by id. */
export const ZIdForm = z.object({ id: z.string().min(1) });
export const ZMemberRoleForm = z.object({ id: z.string().min(1), role: ZRole });

/** Coverage and shares are percentages in the form; variants are parallel lists, one entry per row. */
export const ZExperimentForm = z.object({
  key: ZExperimentInput.shape.key,
  name: ZExperimentInput.shape.name,
  flowKey: ZExperimentInput.shape.flowKey,
  environmentKey: ZExperimentInput.shape.environmentKey,
  coverage: z.number().min(0).max(100),
  variantKey: z.array(z.string()),
  variantVersion: z.array(z.number().int().min(1, 'Choose a version')),
  variantWeight: z.array(z.number()),
}).superRefine((form, ctx) => {
  // Without JavaScript, a version left on "Choose a version" is not posted at all and the lists
  // come back uneven; with it, the form posts its data as JSON and the 0 above is caught instead.
  if (form.variantVersion.length < form.variantKey.length) ctx.addIssue({ code: 'custom', path: ['variantVersion'], message: 'Choose a version for every variant' });
});
export const ZShipForm = z.object({ variantKey: ZSlug });
export const ZWeightsForm = z.object({ key: z.array(ZSlug), weight: z.array(z.number().min(0).max(100)) });

/** Publishing names the draft revision reviewed, so a draft saved since then is not published unseen. */
/** What a publish or rollback does to users mid-flow in another version; the API's InFlightPolicy. */
export const ZInFlightPolicy = z.enum(['keep', 'restart', 'exit']).default('keep');
export const ZPublishForm = z.object({ environmentKey: ZSlug, revision: z.number().int().min(1).nullable(), inFlight: ZInFlightPolicy });
export const ZRollbackForm = z.object({ environmentKey: ZSlug, version: z.number().int().min(1), inFlight: ZInFlightPolicy });
