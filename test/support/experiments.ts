import type { TTestApi } from './api.ts';
import type { TSeedResult } from '../../api/src/seed.ts';

export const CREATE_EXPERIMENT = `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) {
  __typename ... on Experiment { id key status variants { key versionNumber weight } } ... on ValidationError { issues { path message } } ... on Error { code message }
} }`;

/** Publishes a second version of self-serve (a shorter welcome) so an experiment has two variants. */
export async function publishSecondVersion(api: TTestApi, ws: TSeedResult): Promise<void> {
  const { draft } = (await api.gql(ws.secretKey, '{ flow(key: "self-serve") { draft { revision content } } }')).data!.flow;
  await api.gql(ws.secretKey, 'mutation($c: JSON!, $r: Int!) { saveDraft(flowKey: "self-serve", revision: $r, content: $c) { __typename } }', {
    c: { ...draft.content, welcome: { ...draft.content.welcome, title: 'Short welcome' } }, r: draft.revision,
  });
  await api.gql(ws.secretKey, 'mutation { publishFlow(flowKey: "self-serve", environmentKey: "production") { __typename } }');
}

export async function launchedExperiment(api: TTestApi, ws: TSeedResult, key: string, weights = [0.5, 0.5], coverage = 1): Promise<string> {
  await publishSecondVersion(api, ws);
  const created = await api.gql(ws.secretKey, CREATE_EXPERIMENT, {
    input: { key, name: key, flowKey: 'self-serve', environmentKey: 'production', coverage,
      variants: [{ key: 'control', versionNumber: 1, weight: weights[0] }, { key: 'short', versionNumber: 2, weight: weights[1] }] },
  });
  const launched = await api.gql(ws.secretKey, 'mutation($k: String!) { launchExperiment(key: $k) { __typename ... on Error { message } } }', { k: key });
  if (launched.data!.launchExperiment.__typename !== 'Experiment') throw new Error(JSON.stringify(launched));
  return created.data!.createExperiment.id;
}
