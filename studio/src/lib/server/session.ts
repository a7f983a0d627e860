import type { Cookies } from '@sveltejs/kit';
import { graphql, type ResultOf } from '$lib/graphql';
import { api, SESSION_COOKIE } from './api';

const ME = graphql(`query Me { me { id email name role workspace { name } } currentSession { rotationDue } }`);
export type TMember = NonNullable<ResultOf<typeof ME>['me']>;
const ROTATE_SESSION = graphql(`mutation RotateSession { rotateSession { token expiresAt } }`);

/**
 * The member a session token belongs to, or null once it has expired or been signed out. A token the
 * API says is due for rotation is replaced here, in the cookie and for the rest of the request; a
 * parallel request that rotated it first leaves this one on the old token, which works for a short grace.
 */
export async function currentMember(token: string, cookies: Cookies): Promise<{ member: TMember | null; token: string }> {
  const { me, currentSession } = await api(token).request(ME);
  if (!me || !currentSession?.rotationDue) return { member: me, token };
  const { rotateSession } = await api(token).request(ROTATE_SESSION);
  if (!rotateSession) return { member: me, token };
  setSessionCookie(cookies, rotateSession.token, rotateSession.expiresAt);
  return { member: me, token: rotateSession.token };
}

const SETUP_REQUIRED = graphql(`query SetupRequired { setupRequired }`);

/** True until the workspace has its first member, who then creates the first admin. */
export async function setupRequired(): Promise<boolean> {
  const { setupRequired } = await api(undefined).request(SETUP_REQUIRED);
  return setupRequired;
}

/** httpOnly and SameSite=Lax; SvelteKit marks it Secure everywhere but http://localhost. */
export function setSessionCookie(cookies: Cookies, token: string, expiresAt: string): void {
  cookies.set(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', expires: new Date(expiresAt) });
}

export function clearSessionCookie(cookies: Cookies): void {
  cookies.delete(SESSION_COOKIE, { path: '/' });
}
