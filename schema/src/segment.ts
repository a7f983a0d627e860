import { z } from 'zod';
import { ZCondition } from './condition-schema.ts';
import { ZSlug } from './flow-content.ts';
import { storableString } from './text.ts';

export const ZSegmentInput = z.object({
  key: ZSlug,
  name: storableString().trim().min(1).max(120),
  condition: ZCondition,
});
export const ZSegmentUpdateInput = ZSegmentInput.omit({ key: true }).partial();

export type TSegmentInput = z.output<typeof ZSegmentInput>;
export type TSegmentUpdateInput = z.output<typeof ZSegmentUpdateInput>;
