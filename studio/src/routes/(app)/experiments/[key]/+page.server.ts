import { error, fail } from '@sveltejs/kit';
import { message, setError, superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { graphql } from '$lib/graphql';
import { api, ApiError, isApiError, type TApiError } from '$lib/server/api';
import { ZShipForm, ZWeightsForm } from '$lib/schemas';
import type { Actions, PageServerLoad } from './$types';

const EXPERIMENT = graphql(`
  query Experiment($key: String!) {
    experiment(key: $key) {
      key name status coverage startedAt stoppedAt winnerVariantKey activationWindowHours
      flow { key name } environment { key name } variants { key versionNumber weight }
      results {
        variants {
          key versionNumber weight exposed activated activationRate intervalLow intervalHigh uplift chanceToBeatControl pValue
          timeToActivationP50Seconds timeToActivationP90Seconds
        }
        timeToActivation { variantKey upToSeconds users } funnel { variantKey stepId viewed completed }
        segments { segmentKey variantKey exposed activated } srmPValue warnings
      }
    }
  }
`);
const LAUNCH = graphql(`mutation LaunchExperiment($key: String!) { launchExperiment(key: $key) { __typename ...ApiError } }`, [ApiError]);
const STOP = graphql(`mutation StopExperiment($key: String!) { stopExperiment(key: $key) { __typename ...ApiError } }`, [ApiError]);
const SHIP = graphql(`mutation ShipWinner($key: String!, $variantKey: String!) { shipWinner(key: $key, variantKey: $variantKey) { __typename ...ApiError } }`, [ApiError]);
const UPDATE_WEIGHTS = graphql(`
  mutation UpdateExperimentWeights($key: String!, $variants: [ExperimentWeightInput!]!) {
    updateExperimentWeights(key: $key, variants: $variants) { __typename ...ApiError }
  }
`, [ApiError]);

/** Every problem the API named, on one line: these controls have no field of their own to show them next to. */
const problems = (result: TApiError) => (result.__typename === 'ValidationError' ? result.issues.map((i) => i.message).join(' · ') : result.message);

export const load = (async ({ locals, params }) => {
  const { experiment } = await api(locals.token).request(EXPERIMENT, { key: params.key });
  if (!experiment) error(404, `There is no experiment “${params.key}”.`);
  const [shipForm, weightsForm] = await Promise.all([
    superValidate({ variantKey: experiment.variants[0]?.key }, zod4(ZShipForm), { errors: false }),
    superValidate({ key: experiment.variants.map((v) => v.key), weight: experiment.variants.map((v) => Math.round(v.weight * 100)) }, zod4(ZWeightsForm), { errors: false }),
  ]);
  return { experiment, shipForm, weightsForm };
}) satisfies PageServerLoad;

export const actions = {
  launch: async ({ locals, params }) => {
    const { launchExperiment } = await api(locals.token).request(LAUNCH, { key: params.key });
    if (isApiError(launchExperiment)) return fail(400, { error: problems(launchExperiment) });
    return { done: 'Launched: new users are split between the variants from now on.' };
  },
  stop: async ({ locals, params }) => {
    const { stopExperiment } = await api(locals.token).request(STOP, { key: params.key });
    if (isApiError(stopExperiment)) return fail(400, { error: problems(stopExperiment) });
    return { done: 'Stopped: everyone gets the released version again.' };
  },
  ship: async ({ locals, params, request }) => {
    const form = await superValidate(request, zod4(ZShipForm));
    if (!form.valid) return fail(400, { form });
    const { shipWinner } = await api(locals.token).request(SHIP, { key: params.key, variantKey: form.data.variantKey });
    if (isApiError(shipWinner)) return setError(form, problems(shipWinner));
    return message(form, `Shipped ${form.data.variantKey}: it is now the released version, and the experiment is stopped.`);
  },
  weights: async ({ locals, params, request }) => {
    const form = await superValidate(request, zod4(ZWeightsForm));
    if (!form.valid) return fail(400, { form });
    const variants = form.data.key.map((key, i) => ({ key, weight: form.data.weight[i] / 100 }));
    const { updateExperimentWeights } = await api(locals.token).request(UPDATE_WEIGHTS, { key: params.key, variants });
    if (isApiError(updateExperimentWeights)) return setError(form, problems(updateExperimentWeights));
    return message(form, 'Shares updated. People already in the experiment keep their variant.');
  },
} satisfies Actions;
