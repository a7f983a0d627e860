import { fail, redirect } from '@sveltejs/kit';
import { setError, superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { graphql } from '$lib/graphql';
import { api, ApiError, isApiError, isRateLimited } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { setSessionCookie, setupRequired } from '$lib/server/session';
import { ZSignInForm } from '$lib/schemas';
import type { Actions, PageServerLoad } from './$types';

const SIGN_IN = graphql(`
  mutation SignIn($email: String!, $password: String!) {
    signIn(email: $email, password: $password) { __typename ... on SignedIn { token expiresAt } ...ApiError }
  }
`, [ApiError]);

export const load = (async ({ locals }) => {
  if (locals.member) redirect(303, '/flows');
  if (await setupRequired()) redirect(303, '/setup');
  return { form: await superValidate(zod4(ZSignInForm)) };
}) satisfies PageServerLoad;

export const actions = {
  default: async ({ request, cookies }) => {
    const form = await superValidate(request, zod4(ZSignInForm));
    if (!form.valid) return fail(400, { form });
    let signIn;
    try {
      ({ signIn } = await api(undefined).request(SIGN_IN, form.data));
    } catch (cause) {
      if (isRateLimited(cause)) return setError(form, 'password', cause.body.message, { status: 429 });
      throw cause;
    }
    if (isApiError(signIn)) return apiErrorToForm(form, signIn, { email: 'email', password: 'password' });
    setSessionCookie(cookies, signIn.token, signIn.expiresAt);
    redirect(303, '/flows');
  },
} satisfies Actions;
