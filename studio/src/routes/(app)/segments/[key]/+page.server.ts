import { error, fail, redirect } from '@sveltejs/kit';
import { message, superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { graphql } from '$lib/graphql';
import { api, ApiError, isApiError } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { conditionOf, ZSegmentForm } from '$lib/schemas';
import type { Actions, PageServerLoad } from './$types';

const SEGMENT = graphql(`query Segment($key: String!) { segment(key: $key) { key name condition flows { key name } } }`);
const UPDATE_SEGMENT = graphql(`
  mutation UpdateSegment($key: String!, $input: UpdateSegmentInput!) { updateSegment(key: $key, input: $input) { __typename ...ApiError } }
`, [ApiError]);
const DELETE_SEGMENT = graphql(`mutation DeleteSegment($key: String!) { deleteSegment(key: $key) { __typename ...ApiError } }`, [ApiError]);

export const load = (async ({ locals, params }) => {
  const { segment } = await api(locals.token).request(SEGMENT, { key: params.key });
  if (!segment) error(404, `There is no segment “${params.key}”.`);
  const form = await superValidate({ name: segment.name, condition: JSON.stringify(segment.condition, null, 2) }, zod4(ZSegmentForm), { errors: false });
  return { segment, form };
}) satisfies PageServerLoad;

export const actions = {
  save: async ({ request, locals, params }) => {
    const form = await superValidate(request, zod4(ZSegmentForm));
    if (!form.valid) return fail(400, { form });
    const { updateSegment } = await api(locals.token).request(UPDATE_SEGMENT, { key: params.key, input: { name: form.data.name, condition: conditionOf(form.data.condition) } });
    if (isApiError(updateSegment)) return apiErrorToForm(form, updateSegment, { name: 'name', condition: 'condition' });
    return message(form, 'Saved. Flows that target this segment use it right away.');
  },
  delete: async ({ locals, params }) => {
    const { deleteSegment } = await api(locals.token).request(DELETE_SEGMENT, { key: params.key });
    if (isApiError(deleteSegment)) return fail(400, { error: deleteSegment.message });
    redirect(303, '/segments');
  },
} satisfies Actions;
