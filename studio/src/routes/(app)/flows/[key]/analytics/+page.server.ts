import { error } from '@sveltejs/kit';
import { api } from '$lib/server/api';

const DAY = 86400_000;
const ANALYTICS = `query($k: String!, $env: String!, $from: DateTime!, $to: DateTime!, $m: [MilestoneInput!]) {
  flow(key: $k) { key name }
  environments { key name }
  flowAnalytics(flowKey: $k, environmentKey: $env, from: $from, to: $to, milestones: $m) {
    starts completions completionRate activated activationRate timeToActivationP50Seconds timeToActivationP90Seconds
    funnel { stepId viewed completed dropOff } milestones { name reached rate }
    segments { segmentKey starts completions activated activationRate }
  }
}`;

/** The range, environment and milestones live in the URL, so a view can be shared as a link. */
export const load = async ({ locals, params, url }) => {
  const day = (value: string | null, fallback: Date) => (value && !Number.isNaN(Date.parse(value)) ? new Date(value) : fallback);
  const to = day(url.searchParams.get('to'), new Date(Date.now() + DAY));
  const from = day(url.searchParams.get('from'), new Date(to.getTime() - 31 * DAY));
  const environmentKey = url.searchParams.get('env') ?? 'production';
  const milestones = [0, 1, 2]
    .map((i) => ({ name: url.searchParams.get(`m${i}name`) ?? '', event: url.searchParams.get(`m${i}event`) ?? '', count: Number(url.searchParams.get(`m${i}count`) || 1) }))
    .filter((m) => m.name && m.event);
  const data = await api(locals.token).request(ANALYTICS, { k: params.key, env: environmentKey, from, to, m: milestones });
  if (!data.flow) error(404, `There is no flow “${params.key}”.`);
  return { ...data, environmentKey, from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10), milestones };
};
