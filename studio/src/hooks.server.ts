import { redirect, type Handle } from '@sveltejs/kit';
import { SESSION_COOKIE } from '$lib/server/api';
import { currentMember } from '$lib/server/session';

const PUBLIC_PATHS = ['/login', '/setup', '/invite/', '/reset/'];
/** The editor's preview, which the editor frames on the studio's own origin. */
const FRAMED_BY_STUDIO = '/preview-frame';

export const handle: Handle = async ({ event, resolve }) => {
  const token = event.cookies.get(SESSION_COOKIE);
  const session = token ? await currentMember(token, event.cookies) : null;
  event.locals.token = session?.token;
  event.locals.member = session?.member ?? null;
  const isPublic = PUBLIC_PATHS.some((p) => event.url.pathname === p || event.url.pathname.startsWith(p));
  if (!event.locals.member && !isPublic) redirect(303, '/login');
  const response = await resolve(event);
  setSecurityHeaders(response.headers, event.url.pathname === FRAMED_BY_STUDIO);
  return response;
};

/**
 * Headers of every response the studio renders (SvelteKit's kit.csp adds the Content-Security-Policy
 * of pages). No other site may frame the studio, where a click could publish or invite (clickjacking):
 * frame-ancestors, as a second policy next to SvelteKit's, and X-Frame-Options for browsers that
 * predate it. Responses are never sniffed into another type, and links out send no referrer: studio
 * URLs carry invitation tokens and flow names.
 */
function setSecurityHeaders(headers: Headers, framedByStudio: boolean): void {
  headers.append('content-security-policy', `frame-ancestors ${framedByStudio ? "'self'" : "'none'"}`);
  headers.set('x-frame-options', framedByStudio ? 'SAMEORIGIN' : 'DENY');
  headers.set('x-content-type-options', 'nosniff');
  headers.set('referrer-policy', 'same-origin');
}
