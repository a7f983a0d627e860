import { z } from 'zod';
import { ZSlug } from './flow-content.ts';

export const ROLES = ['viewer', 'editor', 'publisher', 'admin'] as const;
export const ZRole = z.enum(ROLES);
export type TRole = z.output<typeof ZRole>;

export function roleAtLeast(role: TRole, required: TRole): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

export const ZApiKeyCreateInput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('public'), name: z.string().trim().min(1).max(80), environmentKey: ZSlug }),
  z.object({ kind: z.literal('secret'), name: z.string().trim().min(1).max(80), role: ZRole }),
]);
export type TApiKeyCreateInput = z.output<typeof ZApiKeyCreateInput>;
