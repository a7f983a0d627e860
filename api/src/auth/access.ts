import { AuthScopeFailureType, type AuthFailure } from '@pothos/plugin-scope-auth';
import { roleAtLeast, type TRole } from '@doorstep/schema';
import type { TContext } from '../context.ts';
import { ForbiddenError, UnauthenticatedError } from '../errors.ts';

const ROLES = ['viewer', 'editor', 'publisher', 'admin'] as const satisfies readonly TRole[];

/** Who may call a root field. Role scopes are cumulative: an admin holds `viewer` too. */
export type TAccessScopes = {
  /** Anyone, with or without credentials (sign-in, first-admin setup, invitations). */
  anyone: boolean;
  /** The public key of one environment: the runtime API. */
  publicKey: boolean;
  viewer: boolean;
  editor: boolean;
  publisher: boolean;
  admin: boolean;
  /** Never held: the root types require it, so a field that declares no scope of its own is refused. */
  declaredByField: boolean;
};

export function accessScopes(ctx: TContext): TAccessScopes {
  const principal = ctx.principal;
  const role = principal && principal.kind !== 'public' ? principal.role : null;
  return {
    anyone: true,
    publicKey: principal?.kind === 'public',
    viewer: role !== null && roleAtLeast(role, 'viewer'),
    editor: role !== null && roleAtLeast(role, 'editor'),
    publisher: role !== null && roleAtLeast(role, 'publisher'),
    admin: role !== null && roleAtLeast(role, 'admin'),
    declaredByField: false,
  };
}

/** The refusal a caller sees, in the words of what they lack. */
export function accessDenied(ctx: TContext, failure: AuthFailure): Error {
  const principal = ctx.principal;
  const required = requiredScopes(failure);
  if (required.has('declaredByField')) return new ForbiddenError('This field is not open to any caller');
  if (!principal) return new UnauthenticatedError();
  if (required.has('publicKey')) return new ForbiddenError('The runtime API takes the public key of an environment');
  if (principal.kind === 'public') return new ForbiddenError('Public keys can only call the runtime API (onboarding, onboardings, explainOnboarding, track, identify)');
  const role = ROLES.find((r) => required.has(r)) ?? 'admin';
  return new ForbiddenError(`This needs the ${role} role; ${principal.kind === 'member' ? 'you have' : 'this key has'} ${principal.role}`);
}

function requiredScopes(failure: AuthFailure, into = new Set<string>()): Set<string> {
  if (failure.kind === AuthScopeFailureType.AuthScope) into.add(failure.scope);
  if (failure.kind === AuthScopeFailureType.AnyAuthScopes || failure.kind === AuthScopeFailureType.AllAuthScopes) for (const inner of failure.failures) requiredScopes(inner, into);
  return into;
}
