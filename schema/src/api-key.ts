import { z } from 'zod';
import { ZSlug } from './flow-content.ts';
import { storableString } from './text.ts';

export const ROLES = ['viewer', 'editor', 'publisher', 'admin'] as const;
export const ZRole = z.enum(ROLES);
export type TRole = z.output<typeof ZRole>;

export function roleAtLeast(role: TRole, required: TRole): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

/** A web origin as browsers send it: scheme, host and port only, lowercase. */
export const ZWebOrigin = z
  .string()
  .trim()
  .toLowerCase()
  .max(200)
  .regex(/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/, 'Use an origin such as https://app.example.com (scheme, host and port, no path)');
export const ZAllowedOrigins = z.array(ZWebOrigin).max(20, 'At most 20 origins per key');

export const ZApiKeyCreateInput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('public'), name: storableString().trim().min(1).max(80), environmentKey: ZSlug, allowedOrigins: ZAllowedOrigins.default([]) }),
  z.object({ kind: z.literal('secret'), name: storableString().trim().min(1).max(80), role: ZRole }),
]);
export type TApiKeyCreateInput = z.output<typeof ZApiKeyCreateInput>;
