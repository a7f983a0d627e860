import { fail, redirect } from '@sveltejs/kit';
import { superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { api, isApiError } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { setSessionCookie } from '$lib/server/session';
import { ZAcceptForm } from '$lib/schemas';

export const load = async ({ params }) => {
  const { invitation } = await api(undefined).request('query($t: String!) { invitation(token: $t) { email workspaceName role } }', { t: params.token });
  return { invitation, form: await superValidate(zod4(ZAcceptForm)) };
};

export const actions = {
  default: async ({ request, cookies, params }) => {
    const form = await superValidate(request, zod4(ZAcceptForm));
    if (!form.valid) return fail(400, { form });
    const { acceptInvitation: result } = await api(undefined).request(
      `mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { __typename ... on SignedIn { token expiresAt } ... on Error { code message } ... on ValidationError { issues { path message } } } }`,
      { i: { ...form.data, token: params.token } },
    );
    if (isApiError(result)) return apiErrorToForm(form, result);
    setSessionCookie(cookies, result.token, result.expiresAt);
    redirect(303, '/flows');
  },
};
