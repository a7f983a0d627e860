import { error } from '@sveltejs/kit';
import { graphql } from '$lib/graphql';
import { api } from '$lib/server/api';
import type { PageServerLoad } from './$types';

const DAY = 86400_000;
const ANALYTICS = graphql(`
  query FlowAnalytics($key: String!, $env: String!, $from: DateTime!, $to: DateTime!, $milestones: [MilestoneInput!], $version: Int) {
    flow(key: $key) { key name versions { number } }
    environments { key name }
    flowAnalytics(flowKey: $key, environmentKey: $env, from: $from, to: $to, milestones: $milestones, version: $version) {
      starts completions completionRate activated activationRate exited timeToActivationP50Seconds timeToActivationP90Seconds
      versions { version starts completions activated activationRate }
      funnel { stepId viewed completed dropOff } milestones { name reached rate }
      segments { segmentKey starts completions activated activationRate }
    }
  }
`);

/** The range, environment and milestones live in the URL, so a view can be shared as a link. */
export const load = (async ({ locals, params, url }) => {
  const day = (value: string | null, fallback: Date) => (value && !Number.isNaN(Date.parse(value)) ? new Date(value) : fallback);
  const to = day(url.searchParams.get('to'), new Date(Date.now() + DAY));
  const from = day(url.searchParams.get('from'), new Date(to.getTime() - 31 * DAY));
  const environmentKey = url.searchParams.get('env') ?? 'production';
  const milestones = [0, 1, 2]
    .map((i) => ({ name: url.searchParams.get(`m${i}name`) ?? '', event: url.searchParams.get(`m${i}event`) ?? '', count: Number(url.searchParams.get(`m${i}count`) || 1) }))
    .filter((m) => m.name && m.event);
  const versionParam = Number(url.searchParams.get('version'));
  const version = Number.isInteger(versionParam) && versionParam > 0 ? versionParam : null;
  const { flow, ...data } = await api(locals.token).request(ANALYTICS, {
    key: params.key, env: environmentKey, from: from.toISOString(), to: to.toISOString(), milestones, version,
  });
  if (!flow) error(404, `There is no flow “${params.key}”.`);
  return { ...data, flow, environmentKey, version, from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10), milestones };
}) satisfies PageServerLoad;
