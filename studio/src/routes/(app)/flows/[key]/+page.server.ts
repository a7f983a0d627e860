import { error, fail } from '@sveltejs/kit';
import { ZCondition } from '@doorstep/schema';
import { api, isApiError } from '$lib/server/api';

const EDITOR = `query($k: String!) {
  flow(key: $k) {
    key name priority archivedAt audienceCondition segment { key name }
    draft { revision content warnings updatedBy updatedAt }
    releases { environment { key name } version { number } updatedAt updatedBy }
  }
  segments { key name condition }
  flows { key name priority audienceCondition segment { condition } releases { environment { key } version { number content } } }
}`;

export const load = async ({ locals, params }) => {
  const data = await api(locals.token).request(EDITOR, { k: params.key });
  if (!data.flow) error(404, `There is no flow “${params.key}”.`);
  return data;
};

export const actions = {
  settings: async ({ request, locals, params }) => {
    const form = await request.formData();
    const name = String(form.get('name') ?? '');
    const priority = Number(form.get('priority'));
    const audienceKind = String(form.get('audienceKind') ?? 'everyone');
    let audience: Record<string, unknown> = { segmentKey: null, condition: null };
    if (audienceKind === 'segment') audience = { segmentKey: String(form.get('segmentKey') ?? ''), condition: null };
    if (audienceKind === 'condition') {
      let condition: unknown;
      try {
        condition = JSON.parse(String(form.get('condition') ?? '{}'));
      } catch {
        return fail(400, { settingsErrors: { 'audience.condition': 'This is not valid JSON' } });
      }
      const parsed = ZCondition.safeParse(condition);
      if (!parsed.success) return fail(400, { settingsErrors: { 'audience.condition': parsed.error.issues[0]?.message ?? 'Invalid condition' } });
      audience = { segmentKey: null, condition };
    }
    const { updateFlow } = await api(locals.token).request(
      `mutation($k: String!, $input: UpdateFlowInput!) { updateFlow(key: $k, input: $input) { __typename ... on Error { code message } ... on ValidationError { issues { path message } } } }`,
      { k: params.key, input: { name, priority: Number.isFinite(priority) ? priority : 0, audience } },
    );
    if (isApiError(updateFlow)) {
      const settingsErrors = Object.fromEntries((updateFlow.issues ?? [{ path: 'form', message: updateFlow.message }]).map((i) => [i.path, i.message]));
      return fail(400, { settingsErrors });
    }
    return { settingsSaved: true };
  },
};
