import { error, fail } from '@sveltejs/kit';
import { ZCondition, ZFlowContent } from '@doorstep/schema';
import { message, superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { ZDraft } from '$lib/draft-editor.svelte';
import { graphql } from '$lib/graphql';
import { api, ApiError, isApiError } from '$lib/server/api';
import { apiErrorToForm } from '$lib/server/form-errors';
import { conditionOf, ZFlowSettingsForm } from '$lib/schemas';
import { studioEnv } from '$lib/server/env';
import type { Actions, PageServerLoad } from './$types';

const EDITOR = graphql(`
  query FlowEditor($key: String!) {
    flow(key: $key) {
      key name priority placement archivedAt audienceCondition segment { key name condition }
      draft { revision content warnings updatedBy updatedAt }
      releases { environment { key name } version { number } updatedAt updatedBy }
    }
    segments { key name condition }
    flows { key name priority placement audienceCondition segment { condition } releases { environment { key } version { number content } } }
  }
`);
const UPDATE_FLOW = graphql(`
  mutation UpdateFlow($key: String!, $input: UpdateFlowInput!) { updateFlow(key: $key, input: $input) { __typename ...ApiError } }
`, [ApiError]);

/** JSON from the API, read as a condition; the API only stores valid ones, so null means "none". */
const asCondition = (value: unknown) => ZCondition.safeParse(value).data ?? null;

export const load = (async ({ locals, params, url, depends }) => {
  // The page reloads this when production publishes (see the page), so the preview plays what is served now.
  depends('doorstep:production');
  const { flow, segments, flows } = await api(locals.token).request(EDITOR, { key: params.key });
  if (!flow) error(404, `There is no flow “${params.key}”.`);
  // The API only saves drafts that validate, so one that does not parse is a bug worth stopping at.
  const draft = ZDraft.safeParse(flow.draft).data;
  if (!draft) error(500, `The draft of “${params.key}” does not match the content model.`);
  // The preview resolves the draft against what production serves today in its placement, as the runtime would.
  const production = flows.filter((f) => f.placement === flow.placement).flatMap((f) => {
    const release = f.releases.find((r) => r.environment.key === 'production');
    const content = release && ZFlowContent.safeParse(release.version.content).data;
    return release && content
      ? [{ key: f.key, name: f.name, priority: f.priority, audience: asCondition(f.segment?.condition ?? f.audienceCondition), version: release.version.number, content }]
      : [];
  });
  const audienceKind = flow.segment ? 'segment' : flow.audienceCondition ? 'condition' : 'everyone';
  const settingsForm = await superValidate({
    name: flow.name, priority: flow.priority, placement: flow.placement, audienceKind, segmentKey: flow.segment?.key ?? segments[0]?.key ?? '',
    condition: JSON.stringify(flow.audienceCondition ?? {}, null, 2),
  }, zod4(ZFlowSettingsForm), { errors: false });
  // What the workspace's conditions look at is what apps send: personal text may use it without a warning.
  const conditions = [...segments.map((s) => s.condition), ...flows.flatMap((f) => [f.segment?.condition, f.audienceCondition])].filter((c) => c != null);
  return {
    flow: { ...flow, draft },
    conditions,
    audience: asCondition(flow.segment?.condition ?? flow.audienceCondition),
    segments: segments.map(({ key, name }) => ({ key, name })), production, settingsForm,
    // The demo app runs on the same host as the studio, on its own port.
    demoUrl: `${url.protocol}//${url.hostname}:${studioEnv.DOORSTEP_DEMO_PORT}`,
  };
}) satisfies PageServerLoad;

export const actions = {
  settings: async ({ request, locals, params }) => {
    const form = await superValidate(request, zod4(ZFlowSettingsForm));
    if (!form.valid) return fail(400, { form });
    const { name, priority, placement, audienceKind, segmentKey, condition } = form.data;
    const audience = {
      segmentKey: audienceKind === 'segment' ? segmentKey : null,
      condition: audienceKind === 'condition' ? conditionOf(condition) : null,
    };
    const { updateFlow } = await api(locals.token).request(UPDATE_FLOW, { key: params.key, input: { name, priority, placement, audience } });
    if (isApiError(updateFlow)) {
      return apiErrorToForm(form, updateFlow, { name: 'name', priority: 'priority', placement: 'placement', 'audience.segmentKey': 'segmentKey', 'audience.condition': 'condition' });
    }
    return message(form, 'Saved. It applies in every environment right away.');
  },
} satisfies Actions;
