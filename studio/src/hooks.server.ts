import { redirect, type Handle } from '@sveltejs/kit';
import { api, SESSION_COOKIE } from '$lib/server/api';

const PUBLIC_PATHS = ['/login', '/setup', '/invite/'];

export const handle: Handle = async ({ event, resolve }) => {
  const token = event.cookies.get(SESSION_COOKIE);
  event.locals.token = token;
  event.locals.member = null;
  if (token) {
    const { me } = await api(token).request<{ me: App.Locals['member'] }>('{ me { id email name role workspace { name } } }');
    event.locals.member = me;
  }
  const isPublic = PUBLIC_PATHS.some((p) => event.url.pathname === p || event.url.pathname.startsWith(p));
  if (!event.locals.member && !isPublic) redirect(303, '/login');
  return resolve(event);
};
