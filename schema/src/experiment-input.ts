import { z } from 'zod';
import { ZAttributeName, ZSlug } from './flow-content.ts';
import { storableString } from './text.ts';

export const ZExperimentVariant = z.object({
  key: ZSlug,
  versionNumber: z.number().int().min(1),
  weight: z.number().min(0).max(1),
});

export const ZExperimentNamespace = z
  .object({ id: ZSlug, start: z.number().min(0).max(1), end: z.number().min(0).max(1) })
  .refine((n) => n.start < n.end, { message: 'The range must start before it ends', path: ['end'] });

/** Variant keys are unique and weights add up to 1: for any object with `variants`. */
export const refineExperimentVariants = (variants: Array<{ key: string; weight: number }>, ctx: z.RefinementCtx) => {
  const keys = new Set<string>();
  variants.forEach((variant, index) => {
    if (keys.has(variant.key)) ctx.addIssue({ code: 'custom', path: ['variants', index, 'key'], message: `Duplicate variant key "${variant.key}"` });
    keys.add(variant.key);
  });
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  if (Math.abs(total - 1) > 0.001) ctx.addIssue({ code: 'custom', path: ['variants'], message: `Weights must add up to 1 (they add up to ${Number(total.toFixed(4))})` });
};

export const ZExperimentInput = z
  .object({
    key: ZSlug,
    name: storableString().trim().min(1).max(120),
    flowKey: ZSlug,
    environmentKey: ZSlug,
    /** The first variant is the control. */
    variants: z.array(ZExperimentVariant).min(2).max(10),
    coverage: z.number().min(0).max(1).default(1),
    seed: storableString().min(1).max(64).optional(),
    hashAttribute: ZAttributeName.default('id'),
    fallbackAttribute: ZAttributeName.optional(),
    namespace: ZExperimentNamespace.optional(),
    activationWindowHours: z.number().int().min(1).max(24 * 90).optional(),
  })
  .superRefine((input, ctx) => refineExperimentVariants(input.variants, ctx));

/** Weights of a running experiment may change; users already exposed keep their variant. */
export const ZExperimentWeightsInput = z
  .object({ variants: z.array(z.object({ key: ZSlug, weight: z.number().min(0).max(1) })).min(2).max(10) })
  .superRefine((input, ctx) => refineExperimentVariants(input.variants, ctx));

export type TExperimentInput = z.output<typeof ZExperimentInput>;
export type TExperimentVariantInput = z.output<typeof ZExperimentVariant>;

/** A variant as an experiment stores it: the version it serves and its share of traffic. */
export const ZStoredVariant = z.object({ key: z.string(), versionNumber: z.number().int(), weight: z.number() });
export const ZStoredVariants = z.array(ZStoredVariant).min(1);
export type TStoredVariant = z.output<typeof ZStoredVariant>;
/** A namespace as stored: [namespace id, range start, range end]. */
export const ZStoredNamespace = z.tuple([z.string(), z.number(), z.number()]);
