import { error, fail } from '@sveltejs/kit';
import { message, setError, superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { graphql } from '$lib/graphql';
import { api, ApiError, isApiError } from '$lib/server/api';
import { ZPublishForm, ZRollbackForm } from '$lib/schemas';
import type { Actions, PageServerLoad } from './$types';

const VERSIONS = graphql(`
  query Versions($key: String!) {
    environments { key name }
    flow(key: $key) {
      key name draft { revision updatedAt updatedBy }
      versions { number createdAt createdBy }
      releases { environment { key name } version { number } updatedAt updatedBy keptVersions inFlight { version users } }
      history { kind actor createdAt inFlight inFlightUsers environment { name } fromVersion { number } toVersion { number } }
    }
  }
`);
const DIFF = graphql(`query VersionDiff($key: String!, $from: Int!, $to: Int) { versionDiff(flowKey: $key, from: $from, to: $to) { path kind before after } }`);
const PUBLISH = graphql(`
  mutation PublishFlow($key: String!, $environmentKey: String!, $revision: Int, $inFlight: InFlightPolicy) {
    publishFlow(flowKey: $key, environmentKey: $environmentKey, expectedRevision: $revision, inFlight: $inFlight) {
      __typename ... on FlowRelease { version { number } environment { name } } ...ApiError
    }
  }
`, [ApiError]);
const ROLLBACK = graphql(`
  mutation RollbackFlow($key: String!, $environmentKey: String!, $version: Int!, $inFlight: InFlightPolicy) {
    rollbackFlow(flowKey: $key, environmentKey: $environmentKey, version: $version, inFlight: $inFlight) {
      __typename ... on FlowRelease { version { number } environment { name } } ...ApiError
    }
  }
`, [ApiError]);

export const load = (async ({ locals, params, url }) => {
  const client = api(locals.token);
  const { environments, flow } = await client.request(VERSIONS, { key: params.key });
  if (!flow) error(404, `There is no flow “${params.key}”.`);
  const numbers = flow.versions.map((v) => v.number);
  const diff = async (from: number, to: number | null) => (await client.request(DIFF, { key: params.key, from, to })).versionDiff;
  // What publishing would change in each environment: its served version against the draft.
  const pending = await Promise.all(
    environments.map(async (environment) => {
      const served = flow.releases.find((r) => r.environment.key === environment.key)?.version.number ?? null;
      return { environment, served, changes: served === null ? null : await diff(served, null) };
    }),
  );
  const parse = (value: string | null) => (value === 'draft' ? null : value && numbers.includes(Number(value)) ? Number(value) : undefined);
  // By default: what the draft changes since the latest version.
  const from = parse(url.searchParams.get('from')) ?? numbers[0] ?? null;
  const to = parse(url.searchParams.get('to')) ?? null;
  const comparison = from === null ? null : { from, to, changes: await diff(from, to) };
  return { environments, flow, pending, comparison };
}) satisfies PageServerLoad;

export const actions = {
  publish: async ({ request, locals, params }) => {
    const form = await superValidate(request, zod4(ZPublishForm), { id: 'publish' });
    if (!form.valid) return fail(400, { form });
    const { publishFlow } = await api(locals.token).request(PUBLISH, { key: params.key, ...form.data });
    if (isApiError(publishFlow)) return setError(form, publishFlow.message, { status: publishFlow.code === 'FORBIDDEN' ? 403 : 400 });
    return message(form, `Published version ${publishFlow.version.number} to ${publishFlow.environment.name}.`);
  },
  rollback: async ({ request, locals, params }) => {
    const form = await superValidate(request, zod4(ZRollbackForm), { id: 'rollback' });
    if (!form.valid) return fail(400, { form });
    const { rollbackFlow } = await api(locals.token).request(ROLLBACK, { key: params.key, ...form.data });
    if (isApiError(rollbackFlow)) {
      const problem = (rollbackFlow.__typename === 'ValidationError' ? rollbackFlow.issues[0]?.message : undefined) ?? rollbackFlow.message;
      return setError(form, problem, { status: rollbackFlow.code === 'FORBIDDEN' ? 403 : 400 });
    }
    return message(form, `${rollbackFlow.environment.name} now serves version ${rollbackFlow.version.number}.`);
  },
} satisfies Actions;
