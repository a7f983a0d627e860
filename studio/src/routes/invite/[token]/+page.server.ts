import { fail, redirect } from '@sveltejs/kit';
import { superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { graphql } from '$lib/graphql';
import { api, ApiError, isApiError } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { setSessionCookie } from '$lib/server/session';
import { ZAcceptForm } from '$lib/schemas';
import type { Actions, PageServerLoad } from './$types';

const INVITATION = graphql(`query Invitation($token: String!) { invitation(token: $token) { email workspaceName role } }`);
const ACCEPT_INVITATION = graphql(`
  mutation AcceptInvitation($input: AcceptInvitationInput!) {
    acceptInvitation(input: $input) { __typename ... on SignedIn { token expiresAt } ...ApiError }
  }
`, [ApiError]);

export const load = (async ({ params }) => {
  const { invitation } = await api(undefined).request(INVITATION, { token: params.token });
  return { invitation, form: await superValidate(zod4(ZAcceptForm)) };
}) satisfies PageServerLoad;

export const actions = {
  default: async ({ request, cookies, params }) => {
    const form = await superValidate(request, zod4(ZAcceptForm));
    if (!form.valid) return fail(400, { form });
    const { acceptInvitation: result } = await api(undefined).request(ACCEPT_INVITATION, { input: { ...form.data, token: params.token } });
    if (isApiError(result)) return apiErrorToForm(form, result, { name: 'name', password: 'password' });
    setSessionCookie(cookies, result.token, result.expiresAt);
    redirect(303, '/flows');
  },
} satisfies Actions;
