import { error, fail } from '@sveltejs/kit';
import { api, isApiError } from '$lib/server/api';

const EXPERIMENT = `query($k: String!) { experiment(key: $k) {
  key name status coverage startedAt stoppedAt winnerVariantKey activationWindowHours
  flow { key name } environment { key name } variants { key versionNumber weight }
  results {
    variants { key versionNumber weight exposed activated activationRate intervalLow intervalHigh uplift chanceToBeatControl pValue timeToActivationP50Seconds timeToActivationP90Seconds }
    timeToActivation { variantKey upToSeconds users } funnel { variantKey stepId viewed completed }
    segments { segmentKey variantKey exposed activated } srmPValue warnings
  }
} }`;

export const load = async ({ locals, params }) => {
  const { experiment } = await api(locals.token).request(EXPERIMENT, { k: params.key });
  if (!experiment) error(404, `There is no experiment “${params.key}”.`);
  return { experiment };
};

async function change(locals: App.Locals, mutation: string, variables: Record<string, unknown>, done: string) {
  const result = Object.values(await api(locals.token).request(mutation, variables))[0] as any;
  if (isApiError(result)) return fail(400, { error: result.issues?.map((i) => i.message).join(' · ') ?? result.message });
  return { done };
}
const SELECTION = '{ __typename ... on Error { code message } ... on ValidationError { issues { message } } }';

export const actions = {
  launch: ({ locals, params }) => change(locals, `mutation($k: String!) { launchExperiment(key: $k) ${SELECTION} }`, { k: params.key }, 'Launched: new users are split between the variants from now on.'),
  stop: ({ locals, params }) => change(locals, `mutation($k: String!) { stopExperiment(key: $k) ${SELECTION} }`, { k: params.key }, 'Stopped: everyone gets the released version again.'),
  ship: async ({ locals, params, request }) => {
    const variantKey = String((await request.formData()).get('variantKey'));
    return change(locals, `mutation($k: String!, $v: String!) { shipWinner(key: $k, variantKey: $v) ${SELECTION} }`, { k: params.key, v: variantKey }, `Shipped ${variantKey}: it is now the released version, and the experiment is stopped.`);
  },
  weights: async ({ locals, params, request }) => {
    const form = await request.formData();
    const variants = form.getAll('key').map((key, i) => ({ key: String(key), weight: Number(form.getAll('weight')[i]) / 100 }));
    return change(locals, `mutation($k: String!, $v: [ExperimentWeightInput!]!) { updateExperimentWeights(key: $k, variants: $v) ${SELECTION} }`, { k: params.key, v: variants }, 'Shares updated. People already in the experiment keep their variant.');
  },
};
