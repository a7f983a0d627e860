import { redirect, type Handle } from '@sveltejs/kit';
import { SESSION_COOKIE } from '$lib/server/api';
import { currentMember } from '$lib/server/session';

const PUBLIC_PATHS = ['/login', '/setup', '/invite/'];

export const handle: Handle = async ({ event, resolve }) => {
  const token = event.cookies.get(SESSION_COOKIE);
  event.locals.token = token;
  event.locals.member = token ? await currentMember(token) : null;
  const isPublic = PUBLIC_PATHS.some((p) => event.url.pathname === p || event.url.pathname.startsWith(p));
  if (!event.locals.member && !isPublic) redirect(303, '/login');
  return resolve(event);
};
