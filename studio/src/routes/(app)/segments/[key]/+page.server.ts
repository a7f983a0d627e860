import { error, fail, redirect } from '@sveltejs/kit';
import { ZCondition } from '@doorstep/schema';
import { api, isApiError } from '$lib/server/api';

export const load = async ({ locals, params }) => {
  const { segment } = await api(locals.token).request('query($k: String!) { segment(key: $k) { key name condition flows { key name } } }', { k: params.key });
  if (!segment) error(404, `There is no segment “${params.key}”.`);
  return { segment };
};

export const actions = {
  save: async ({ request, locals, params }) => {
    const form = await request.formData();
    let condition: unknown;
    try {
      condition = JSON.parse(String(form.get('condition') ?? ''));
    } catch {
      return fail(400, { error: 'The condition is not valid JSON.' });
    }
    const checked = ZCondition.safeParse(condition);
    if (!checked.success) return fail(400, { error: checked.error.issues.map((i) => `${i.path.join('.') || 'condition'}: ${i.message}`).join('; ') });
    const { updateSegment } = await api(locals.token).request(
      `mutation($k: String!, $input: UpdateSegmentInput!) { updateSegment(key: $k, input: $input) { __typename ... on Error { code message } ... on ValidationError { issues { path message } } } }`,
      { k: params.key, input: { name: String(form.get('name') ?? ''), condition } },
    );
    if (isApiError(updateSegment)) return fail(400, { error: updateSegment.issues?.map((i) => `${i.path}: ${i.message}`).join('; ') ?? updateSegment.message });
    return { saved: true };
  },
  delete: async ({ locals, params }) => {
    const { deleteSegment } = await api(locals.token).request(`mutation($k: String!) { deleteSegment(key: $k) { __typename ... on Error { message } } }`, { k: params.key });
    if (isApiError(deleteSegment)) return fail(400, { error: deleteSegment.message });
    redirect(303, '/segments');
  },
};
