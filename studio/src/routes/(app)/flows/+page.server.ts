import { fail, redirect } from '@sveltejs/kit';
import { setError, superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { graphql } from '$lib/graphql';
import { api, ApiError, isApiError } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { ZCreateFlowForm, ZFlowKeyForm } from '$lib/schemas';
import type { Actions, PageServerLoad } from './$types';

const FLOWS = graphql(`
  query Flows($archived: Boolean) {
    environments { key name }
    flows(includeArchived: $archived) {
      key name priority archivedAt audienceCondition segment { name }
      releases { environment { key } version { number } updatedAt updatedBy }
    }
  }
`);
const CREATE_FLOW = graphql(`
  mutation CreateFlow($input: CreateFlowInput!) { createFlow(input: $input) { __typename ... on Flow { key } ...ApiError } }
`, [ApiError]);
const ARCHIVE_FLOW = graphql(`mutation ArchiveFlow($key: String!) { archiveFlow(key: $key) { __typename ...ApiError } }`, [ApiError]);
const RESTORE_FLOW = graphql(`mutation RestoreFlow($key: String!) { restoreFlow(key: $key) { __typename ...ApiError } }`, [ApiError]);

export const load = (async ({ locals, url }) => {
  const showArchived = url.searchParams.get('archived') === '1';
  const data = await api(locals.token).request(FLOWS, { archived: showArchived });
  return { ...data, showArchived, form: await superValidate(zod4(ZCreateFlowForm)) };
}) satisfies PageServerLoad;

export const actions = {
  create: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZCreateFlowForm));
    if (!form.valid) return fail(400, { form });
    const { createFlow } = await api(locals.token).request(CREATE_FLOW, { input: form.data });
    if (isApiError(createFlow)) return apiErrorToForm(form, createFlow, { key: 'key', name: 'name' });
    redirect(303, `/flows/${createFlow.key}`);
  },
  archive: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZFlowKeyForm), { id: 'archive' });
    if (!form.valid) return fail(400, { form });
    const { archiveFlow } = await api(locals.token).request(ARCHIVE_FLOW, form.data);
    if (isApiError(archiveFlow)) return setError(form, archiveFlow.message);
    return { form };
  },
  restore: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZFlowKeyForm), { id: 'restore' });
    if (!form.valid) return fail(400, { form });
    const { restoreFlow } = await api(locals.token).request(RESTORE_FLOW, form.data);
    if (isApiError(restoreFlow)) return setError(form, restoreFlow.message);
    return { form };
  },
} satisfies Actions;
