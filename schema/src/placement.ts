import { z } from 'zod';
import { ZSlug } from './flow-content.ts';
import { MAIN_PLACEMENT } from './resolve.ts';
import { storableString } from './text.ts';

/**
 * A placement's key: where a flow shows. `main` (the onboarding), `banner`, `modal` and `checklist`
 * are what the drop-in element renders by name; any other key is an inline slot the app names.
 */
export const ZPlacementKey = ZSlug.max(40);
export const BUILT_IN_PLACEMENTS = [MAIN_PLACEMENT, 'banner', 'modal', 'checklist'] as const;
/** At most this many placements in one runtime request: each is a resolution. */
export const MAX_PLACEMENTS_PER_REQUEST = 20;
export const ZPlacementKeys = z.array(ZPlacementKey).min(1).max(MAX_PLACEMENTS_PER_REQUEST)
  .refine((keys) => new Set(keys).size === keys.length, 'Name each placement once');

const ZHours = (max: number) => z.number().int().min(1).max(max);
export const ZPlacementInput = z.object({
  key: ZPlacementKey,
  name: storableString().trim().min(1, 'Give the placement a name').max(80),
  maxShows: z.number().int().min(1).max(100).nullish().transform((v) => v ?? null),
  windowHours: ZHours(24 * 30).default(24),
  cooloffHours: ZHours(24 * 90).nullish().transform((v) => v ?? null),
});
export type TPlacementInput = z.output<typeof ZPlacementInput>;
