import { redirect } from '@sveltejs/kit';
import { api } from '$lib/server/api';
import { clearSessionCookie } from '$lib/server/session';

export const actions = {
  default: async ({ locals, cookies }) => {
    if (locals.token) await api(locals.token).request('mutation { signOut }');
    clearSessionCookie(cookies);
    redirect(303, '/login');
  },
};
