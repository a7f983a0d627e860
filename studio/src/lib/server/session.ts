import type { Cookies } from '@sveltejs/kit';
import { SESSION_COOKIE } from './api';

/** httpOnly and SameSite=Lax; SvelteKit marks it Secure everywhere but http://localhost. */
export function setSessionCookie(cookies: Cookies, token: string, expiresAt: string): void {
  cookies.set(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', expires: new Date(expiresAt) });
}

export function clearSessionCookie(cookies: Cookies): void {
  cookies.delete(SESSION_COOKIE, { path: '/' });
}
