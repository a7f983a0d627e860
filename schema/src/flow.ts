import { z } from 'zod';
import { ZCondition } from './condition-schema.ts';
import { ZSlug } from './flow-content.ts';
import { ZPlacementKey } from './placement.ts';
import { storableString } from './text.ts';

const ZName = storableString().trim().min(1).max(120);
export const ZPriority = z.number().int().min(-1000).max(1000);

/** A flow's audience: a saved segment, an inline condition, or neither (everyone). */
export const ZAudience = z
  .object({ segmentKey: ZSlug.nullish(), condition: ZCondition.nullish() })
  .refine((a) => !(a.segmentKey && a.condition), { message: 'Choose a segment or an inline condition, not both', path: ['segmentKey'] });

export const ZFlowCreateInput = z.object({
  key: ZSlug,
  name: ZName,
  priority: ZPriority.default(0),
  placement: ZPlacementKey.default('main'),
  audience: ZAudience.optional(),
});
export const ZFlowUpdateInput = z.object({
  name: ZName.optional(),
  priority: ZPriority.optional(),
  placement: ZPlacementKey.optional(),
  audience: ZAudience.optional(),
});

export type TFlowCreateInput = z.output<typeof ZFlowCreateInput>;
export type TFlowUpdateInput = z.output<typeof ZFlowUpdateInput>;
export type TAudience = z.output<typeof ZAudience>;
