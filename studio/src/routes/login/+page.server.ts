import { fail, redirect } from '@sveltejs/kit';
import { superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { api, isApiError } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { setSessionCookie } from '$lib/server/session';
import { ZSignInForm } from '$lib/schemas';

export const load = async ({ locals }) => {
  if (locals.member) redirect(303, '/flows');
  const { setupRequired } = await api(undefined).request<{ setupRequired: boolean }>('{ setupRequired }');
  if (setupRequired) redirect(303, '/setup');
  return { form: await superValidate(zod4(ZSignInForm)) };
};

export const actions = {
  default: async ({ request, cookies }) => {
    const form = await superValidate(request, zod4(ZSignInForm));
    if (!form.valid) return fail(400, { form });
    const { signIn } = await api(undefined).request(
      `mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { __typename ... on SignedIn { token expiresAt } ... on Error { code message } ... on ValidationError { issues { path message } } } }`,
      { e: form.data.email, p: form.data.password },
    );
    if (isApiError(signIn)) return apiErrorToForm(form, signIn);
    setSessionCookie(cookies, signIn.token, signIn.expiresAt);
    redirect(303, '/flows');
  },
};
