import { redirect } from '@sveltejs/kit';
import { graphql } from '$lib/graphql';
import { api } from '$lib/server/api';
import { clearSessionCookie } from '$lib/server/session';
import type { Actions } from './$types';

const SIGN_OUT = graphql(`mutation SignOut { signOut }`);

export const actions = {
  default: async ({ locals, cookies }) => {
    if (locals.token) await api(locals.token).request(SIGN_OUT);
    clearSessionCookie(cookies);
    redirect(303, '/login');
  },
} satisfies Actions;
