import { fail, redirect } from '@sveltejs/kit';
import { superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { api, isApiError } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { ZCreateFlowForm } from '$lib/schemas';

const FLOWS = `query($archived: Boolean) {
  environments { key name }
  flows(includeArchived: $archived) {
    key name priority archivedAt audienceCondition segment { name }
    releases { environment { key } version { number } updatedAt updatedBy }
  }
}`;

export const load = async ({ locals, url }) => {
  const showArchived = url.searchParams.get('archived') === '1';
  const data = await api(locals.token).request(FLOWS, { archived: showArchived });
  return { ...data, showArchived, form: await superValidate(zod4(ZCreateFlowForm)) };
};

export const actions = {
  create: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZCreateFlowForm));
    if (!form.valid) return fail(400, { form });
    const { createFlow } = await api(locals.token).request(
      `mutation($input: CreateFlowInput!) { createFlow(input: $input) { __typename ... on Flow { key } ... on Error { code message } ... on ValidationError { issues { path message } } } }`,
      { input: form.data },
    );
    if (isApiError(createFlow)) return apiErrorToForm(form, createFlow);
    redirect(303, `/flows/${createFlow.key}`);
  },
  archive: async ({ request, locals }) => {
    const key = String((await request.formData()).get('key') ?? '');
    const { archiveFlow } = await api(locals.token).request(`mutation($k: String!) { archiveFlow(key: $k) { __typename ... on Error { message } } }`, { k: key });
    if (isApiError(archiveFlow)) return fail(400, { actionError: archiveFlow.message });
    return { archived: key };
  },
  restore: async ({ request, locals }) => {
    const key = String((await request.formData()).get('key') ?? '');
    const { restoreFlow } = await api(locals.token).request(`mutation($k: String!) { restoreFlow(key: $k) { __typename ... on Error { message } } }`, { k: key });
    if (isApiError(restoreFlow)) return fail(400, { actionError: restoreFlow.message });
    return { restored: key };
  },
};
