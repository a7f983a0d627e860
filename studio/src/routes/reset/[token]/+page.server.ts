import { fail, redirect } from '@sveltejs/kit';
import { superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { graphql } from '$lib/graphql';
import { api, ApiError, isApiError } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { setSessionCookie } from '$lib/server/session';
import { ZResetForm } from '$lib/schemas';
import type { Actions, PageServerLoad } from './$types';

const PASSWORD_RESET = graphql(`query PasswordReset($token: String!) { passwordReset(token: $token) { email workspaceName } }`);
const RESET_PASSWORD = graphql(`
  mutation ResetPassword($input: ResetPasswordInput!) {
    resetPassword(input: $input) { __typename ... on SignedIn { token expiresAt } ...ApiError }
  }
`, [ApiError]);

export const load = (async ({ params }) => {
  const { passwordReset } = await api(undefined).request(PASSWORD_RESET, { token: params.token });
  return { reset: passwordReset, form: await superValidate(zod4(ZResetForm)) };
}) satisfies PageServerLoad;

export const actions = {
  default: async ({ request, cookies, params }) => {
    const form = await superValidate(request, zod4(ZResetForm));
    if (!form.valid) return fail(400, { form });
    const { resetPassword: result } = await api(undefined).request(RESET_PASSWORD, { input: { ...form.data, token: params.token } });
    if (isApiError(result)) {
      return apiErrorToForm(form, result.code === 'NOT_FOUND' ? { ...result, message: 'This reset link is not valid any more. Ask an admin for a new one.' } : result, { password: 'password' });
    }
    setSessionCookie(cookies, result.token, result.expiresAt);
    redirect(303, '/flows');
  },
} satisfies Actions;
