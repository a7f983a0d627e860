import { fail, redirect } from '@sveltejs/kit';
import { superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { graphql } from '$lib/graphql';
import { api, ApiError, isApiError } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { ZCreateSegmentForm } from '$lib/schemas';
import type { Actions, PageServerLoad } from './$types';

const SEGMENTS = graphql(`query Segments { segments { key name condition updatedAt flows { key name } } }`);
const CREATE_SEGMENT = graphql(`
  mutation CreateSegment($input: SegmentInput!) { createSegment(input: $input) { __typename ... on Segment { key } ...ApiError } }
`, [ApiError]);

export const load = (async ({ locals }) => {
  const { segments } = await api(locals.token).request(SEGMENTS);
  return { segments, form: await superValidate(zod4(ZCreateSegmentForm)) };
}) satisfies PageServerLoad;

export const actions = {
  default: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZCreateSegmentForm));
    if (!form.valid) return fail(400, { form });
    const { createSegment } = await api(locals.token).request(CREATE_SEGMENT, { input: { ...form.data, condition: {} } });
    if (isApiError(createSegment)) return apiErrorToForm(form, createSegment, { key: 'key', name: 'name' });
    redirect(303, `/segments/${createSegment.key}`);
  },
} satisfies Actions;
