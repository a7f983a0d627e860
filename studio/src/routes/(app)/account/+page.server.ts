import { fail, redirect } from '@sveltejs/kit';
import { message, setError, superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { graphql } from '$lib/graphql';
import { api, ApiError, isApiError, isRateLimited } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { clearSessionCookie, setSessionCookie } from '$lib/server/session';
import { ZChangePasswordForm } from '$lib/schemas';
import type { Actions, PageServerLoad } from './$types';

const CHANGE_PASSWORD = graphql(`
  mutation ChangePassword($input: ChangePasswordInput!) {
    changePassword(input: $input) { __typename ... on SignedIn { token expiresAt } ...ApiError }
  }
`, [ApiError]);
const SIGN_OUT_EVERYWHERE = graphql(`mutation SignOutEverywhere { signOutEverywhere }`);

export const load = (async () => ({
  passwordForm: await superValidate(zod4(ZChangePasswordForm), { id: 'password' }),
})) satisfies PageServerLoad;

export const actions = {
  changePassword: async ({ request, locals, cookies }) => {
    const form = await superValidate(request, zod4(ZChangePasswordForm), { id: 'password' });
    if (!form.valid) return fail(400, { form });
    let result;
    try {
      ({ changePassword: result } = await api(locals.token).request(CHANGE_PASSWORD, { input: form.data }));
    } catch (cause) {
      if (isRateLimited(cause)) return setError(form, 'currentPassword', cause.body.message, { status: 429 });
      throw cause;
    }
    if (isApiError(result)) return apiErrorToForm(form, result, { currentPassword: 'currentPassword', newPassword: 'newPassword' });
    // The API ended every session, this one too: the new token keeps this browser signed in.
    setSessionCookie(cookies, result.token, result.expiresAt);
    locals.token = result.token;
    form.data = { currentPassword: '', newPassword: '' };
    return message(form, 'Password changed. Every other device is signed out.');
  },
  signOutEverywhere: async ({ locals, cookies }) => {
    if (locals.token) await api(locals.token).request(SIGN_OUT_EVERYWHERE);
    clearSessionCookie(cookies);
    redirect(303, '/login');
  },
} satisfies Actions;
