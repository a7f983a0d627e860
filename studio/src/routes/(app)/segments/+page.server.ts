import { fail, redirect } from '@sveltejs/kit';
import { superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { api, isApiError } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { ZCreateSegmentForm } from '$lib/schemas';

export const load = async ({ locals }) => {
  const { segments } = await api(locals.token).request('{ segments { key name condition updatedAt flows { key name } } }');
  return { segments, form: await superValidate(zod4(ZCreateSegmentForm)) };
};

export const actions = {
  default: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZCreateSegmentForm));
    if (!form.valid) return fail(400, { form });
    const { createSegment } = await api(locals.token).request(
      `mutation($input: SegmentInput!) { createSegment(input: $input) { __typename ... on Segment { key } ... on Error { code message } ... on ValidationError { issues { path message } } } }`,
      { input: { ...form.data, condition: {} } },
    );
    if (isApiError(createSegment)) return apiErrorToForm(form, createSegment);
    redirect(303, `/segments/${createSegment.key}`);
  },
};
