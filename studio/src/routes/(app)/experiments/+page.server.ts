import { fail, redirect } from '@sveltejs/kit';
import { superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { graphql } from '$lib/graphql';
import { api, ApiError, isApiError } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { ZExperimentForm } from '$lib/schemas';
import type { Actions, PageServerLoad } from './$types';

const EXPERIMENTS = graphql(`
  query Experiments {
    experiments { key name status startedAt stoppedAt winnerVariantKey flow { key name } environment { key name } variants { key versionNumber weight } }
    flows { key name versions { number createdAt } }
    environments { key name }
  }
`);
const CREATE_EXPERIMENT = graphql(`
  mutation CreateExperiment($input: CreateExperimentInput!) { createExperiment(input: $input) { __typename ... on Experiment { key } ...ApiError } }
`, [ApiError]);

export const load = (async ({ locals }) => {
  const data = await api(locals.token).request(EXPERIMENTS);
  const form = await superValidate({
    environmentKey: data.environments[0]?.key ?? '', coverage: 100,
    variantKey: ['control', 'variant-b'], variantVersion: [0, 0], variantWeight: [50, 50],
  }, zod4(ZExperimentForm), { errors: false });
  return { ...data, form };
}) satisfies PageServerLoad;

export const actions = {
  create: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZExperimentForm));
    if (!form.valid) return fail(400, { form });
    const { variantKey, variantVersion, variantWeight, coverage, ...experiment } = form.data;
    const input = {
      ...experiment, coverage: coverage / 100,
      variants: variantKey.map((key, i) => ({ key, versionNumber: variantVersion[i], weight: variantWeight[i] / 100 })),
    };
    const { createExperiment } = await api(locals.token).request(CREATE_EXPERIMENT, { input });
    if (isApiError(createExperiment)) {
      return apiErrorToForm(form, createExperiment, { key: 'key', name: 'name', flowKey: 'flowKey', environmentKey: 'environmentKey', coverage: 'coverage' });
    }
    redirect(303, `/experiments/${createExperiment.key}`);
  },
} satisfies Actions;
