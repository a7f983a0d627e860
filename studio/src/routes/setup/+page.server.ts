import { fail, redirect } from '@sveltejs/kit';
import { superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { api, isApiError } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { setSessionCookie } from '$lib/server/session';
import { ZSetupForm } from '$lib/schemas';

export const load = async () => {
  const { setupRequired } = await api(undefined).request<{ setupRequired: boolean }>('{ setupRequired }');
  if (!setupRequired) redirect(303, '/login');
  return { form: await superValidate(zod4(ZSetupForm)) };
};

export const actions = {
  default: async ({ request, cookies }) => {
    const form = await superValidate(request, zod4(ZSetupForm));
    if (!form.valid) return fail(400, { form });
    const { setupFirstAdmin: result } = await api(undefined).request(
      `mutation($i: SetupInput!) { setupFirstAdmin(input: $i) { __typename ... on SignedIn { token expiresAt } ... on Error { code message } ... on ValidationError { issues { path message } } } }`,
      { i: form.data },
    );
    if (isApiError(result)) return apiErrorToForm(form, result);
    setSessionCookie(cookies, result.token, result.expiresAt);
    redirect(303, '/flows');
  },
};
