import { roleAtLeast, type TRole } from '@doorstep/schema';
import type { TContext } from '../context.ts';
import { ForbiddenError, UnauthenticatedError } from '../errors.ts';
import type { TManagementPrincipal, TPublicPrincipal } from './principal.ts';

/** Management access: a secret key or a signed-in member whose role is at least `role`. */
export function requireRole(ctx: TContext, role: TRole): TManagementPrincipal {
  const principal = ctx.principal;
  if (!principal) throw new UnauthenticatedError();
  if (principal.kind === 'public') throw new ForbiddenError('Public keys can only call the runtime API (onboarding, track)');
  if (!roleAtLeast(principal.role, role)) {
    throw new ForbiddenError(`This needs the ${role} role; ${principal.kind === 'member' ? 'you have' : 'this key has'} ${principal.role}`);
  }
  return principal;
}

/** Runtime access: the public key of one environment. */
export function requirePublicKey(ctx: TContext): TPublicPrincipal {
  const principal = ctx.principal;
  if (!principal) throw new UnauthenticatedError();
  if (principal.kind !== 'public') throw new ForbiddenError('The runtime API takes the public key of an environment');
  return principal;
}
