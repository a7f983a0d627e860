import { z } from 'zod';
import { ZSlug } from './flow-content.ts';
import { storableString } from './text.ts';

export const DEFAULT_ENVIRONMENTS = [
  { key: 'production', name: 'Production' },
  { key: 'staging', name: 'Staging' },
] as const;

export const ZEnvironmentInput = z.object({
  key: ZSlug,
  name: storableString().trim().min(1).max(80),
});
export type TEnvironmentInput = z.output<typeof ZEnvironmentInput>;
