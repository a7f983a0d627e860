import { error, fail } from '@sveltejs/kit';
import { api, isApiError } from '$lib/server/api';

const VERSIONS = `query($k: String!) {
  environments { key name }
  flow(key: $k) {
    key name draft { revision updatedAt updatedBy }
    versions { number createdAt createdBy }
    releases { environment { key name } version { number } updatedAt updatedBy }
    history { kind actor createdAt environment { name } fromVersion { number } toVersion { number } }
  }
}`;
const DIFF = `query($k: String!, $from: Int!, $to: Int) { versionDiff(flowKey: $k, from: $from, to: $to) { path kind before after } }`;

export const load = async ({ locals, params, url }) => {
  const client = api(locals.token);
  const data = await client.request(VERSIONS, { k: params.key });
  if (!data.flow) error(404, `There is no flow “${params.key}”.`);
  const numbers: number[] = data.flow.versions.map((v: any) => v.number);
  // What publishing would change in each environment: its served version against the draft.
  const pending = await Promise.all(
    data.environments.map(async (env: any) => {
      const served = data.flow.releases.find((r: any) => r.environment.key === env.key)?.version.number ?? null;
      const changes = served === null ? null : (await client.request(DIFF, { k: params.key, from: served, to: null })).versionDiff;
      return { environment: env, served, changes };
    }),
  );
  const parse = (value: string | null) => (value === 'draft' ? null : value && numbers.includes(Number(value)) ? Number(value) : undefined);
  // By default: what the draft changes since the latest version.
  const from = parse(url.searchParams.get('from')) ?? numbers[0] ?? null;
  const requestedTo = parse(url.searchParams.get('to'));
  const to = requestedTo === undefined ? null : requestedTo;
  const comparison = from === null ? null : { from, to, changes: (await client.request(DIFF, { k: params.key, from, to })).versionDiff };
  return { ...data, pending, comparison };
};

export const actions = {
  publish: async ({ request, locals, params }) => {
    const form = await request.formData();
    const { publishFlow } = await api(locals.token).request(
      `mutation($k: String!, $e: String!, $r: Int) { publishFlow(flowKey: $k, environmentKey: $e, expectedRevision: $r) {
        __typename ... on FlowRelease { version { number } environment { name } } ... on Error { code message } } }`,
      { k: params.key, e: String(form.get('environmentKey')), r: Number(form.get('revision')) || null },
    );
    if (isApiError(publishFlow)) return fail(publishFlow.code === 'FORBIDDEN' ? 403 : 400, { actionError: publishFlow.message });
    return { done: `Published version ${publishFlow.version.number} to ${publishFlow.environment.name}.` };
  },
  rollback: async ({ request, locals, params }) => {
    const form = await request.formData();
    const { rollbackFlow } = await api(locals.token).request(
      `mutation($k: String!, $e: String!, $v: Int!) { rollbackFlow(flowKey: $k, environmentKey: $e, version: $v) {
        __typename ... on FlowRelease { version { number } environment { name } } ... on Error { code message } ... on ValidationError { issues { message } } } }`,
      { k: params.key, e: String(form.get('environmentKey')), v: Number(form.get('version')) },
    );
    if (isApiError(rollbackFlow)) return fail(rollbackFlow.code === 'FORBIDDEN' ? 403 : 400, { actionError: rollbackFlow.issues?.[0]?.message ?? rollbackFlow.message });
    return { done: `${rollbackFlow.environment.name} now serves version ${rollbackFlow.version.number}.` };
  },
};
