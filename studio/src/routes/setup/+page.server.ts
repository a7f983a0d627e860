import { fail, redirect } from '@sveltejs/kit';
import { superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { graphql } from '$lib/graphql';
import { api, ApiError, isApiError } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { setSessionCookie, setupRequired } from '$lib/server/session';
import { ZSetupForm } from '$lib/schemas';
import type { Actions, PageServerLoad } from './$types';

const SETUP_FIRST_ADMIN = graphql(`
  mutation SetupFirstAdmin($input: SetupInput!) {
    setupFirstAdmin(input: $input) { __typename ... on SignedIn { token expiresAt } ...ApiError }
  }
`, [ApiError]);

export const load = (async () => {
  if (!(await setupRequired())) redirect(303, '/login');
  return { form: await superValidate(zod4(ZSetupForm)) };
}) satisfies PageServerLoad;

export const actions = {
  default: async ({ request, cookies }) => {
    const form = await superValidate(request, zod4(ZSetupForm));
    if (!form.valid) return fail(400, { form });
    const { setupFirstAdmin: result } = await api(undefined).request(SETUP_FIRST_ADMIN, { input: form.data });
    if (isApiError(result)) return apiErrorToForm(form, result, { name: 'name', email: 'email', password: 'password' });
    setSessionCookie(cookies, result.token, result.expiresAt);
    redirect(303, '/flows');
  },
} satisfies Actions;
