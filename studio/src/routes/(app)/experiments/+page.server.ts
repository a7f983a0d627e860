import { fail, redirect } from '@sveltejs/kit';
import { api, isApiError } from '$lib/server/api';

export const load = async ({ locals }) =>
  api(locals.token).request(`{
    experiments { key name status startedAt stoppedAt winnerVariantKey flow { key name } environment { key name } variants { key versionNumber weight } }
    flows { key name versions { number createdAt } }
    environments { key name }
  }`);

export const actions = {
  create: async ({ request, locals }) => {
    const form = await request.formData();
    const keys = form.getAll('variantKey').map(String);
    const versions = form.getAll('variantVersion').map(Number);
    const weights = form.getAll('variantWeight').map((w) => Number(w) / 100);
    const input = {
      key: String(form.get('key') ?? ''), name: String(form.get('name') ?? ''), flowKey: String(form.get('flowKey') ?? ''),
      environmentKey: String(form.get('environmentKey') ?? ''), coverage: Number(form.get('coverage') ?? 100) / 100,
      variants: keys.map((key, i) => ({ key, versionNumber: versions[i], weight: weights[i] })),
    };
    const { createExperiment } = await api(locals.token).request(
      `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { __typename ... on Experiment { key } ... on Error { message } ... on ValidationError { issues { path message } } } }`,
      { input },
    );
    if (isApiError(createExperiment)) {
      return fail(400, { error: createExperiment.issues?.map((i) => `${i.path}: ${i.message}`).join(' · ') ?? createExperiment.message, values: input });
    }
    redirect(303, `/experiments/${createExperiment.key}`);
  },
};
