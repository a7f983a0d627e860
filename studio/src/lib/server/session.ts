import type { Cookies } from '@sveltejs/kit';
import { graphql, type ResultOf } from '$lib/graphql';
import { api, SESSION_COOKIE } from './api';

const ME = graphql(`query Me { me { id email name role workspace { name } } }`);
export type TMember = NonNullable<ResultOf<typeof ME>['me']>;

/** The member a session token belongs to, or null once it has expired or been signed out. */
export async function currentMember(token: string): Promise<TMember | null> {
  const { me } = await api(token).request(ME);
  return me;
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
