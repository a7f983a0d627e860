import { ForbiddenError } from '../errors.ts';
import type { TPublicPrincipal } from './principal.ts';

/**
 * A public key with an origin allow list refuses browser requests from other origins. Requests
 * without an Origin header (servers, native apps) pass: the list stops other websites from using
 * the key in their visitors' browsers; it cannot stop anyone who copies the key into a script.
 */
export function assertOriginAllowed(principal: TPublicPrincipal, origin: string | null): void {
  if (!origin || principal.allowedOrigins.length === 0) return;
  if (!principal.allowedOrigins.includes(origin.toLowerCase())) {
    throw new ForbiddenError(`This public key is not allowed from ${origin}; add the origin to the key in the studio's settings`);
  }
}
