import { json } from '@sveltejs/kit';
import { z } from 'zod';
import { api, isApiError } from '$lib/server/api';

const ZSaveRequest = z.object({ revision: z.number().int().min(1), content: z.unknown() });
const DRAFT = 'query($k: String!) { flow(key: $k) { draft { revision content warnings updatedBy updatedAt } } }';

export const GET = async ({ locals, params }) => {
  const { flow } = await api(locals.token).request(DRAFT, { k: params.key });
  return json(flow?.draft ?? null);
};

/** Autosave target: answers { saved }, { conflict } or { issues } so the editor can react to each. */
export const POST = async ({ locals, params, request }) => {
  const body = ZSaveRequest.safeParse(await request.json().catch(() => null));
  if (!body.success) return json({ error: 'Malformed save request' }, { status: 400 });
  const { saveDraft } = await api(locals.token).request(
    `mutation($k: String!, $r: Int!, $c: JSON!) { saveDraft(flowKey: $k, revision: $r, content: $c) {
      __typename ... on FlowDraft { revision warnings updatedAt } ... on Error { code message }
      ... on ConflictError { currentRevision } ... on ValidationError { issues { path message } } } }`,
    { k: params.key, r: body.data.revision, c: body.data.content },
  );
  if (!isApiError(saveDraft)) return json({ saved: saveDraft });
  if (saveDraft.code === 'CONFLICT') return json({ conflict: { currentRevision: saveDraft.currentRevision, message: saveDraft.message } }, { status: 409 });
  if (saveDraft.code === 'VALIDATION') {
    const issues = (saveDraft.issues ?? []).map((i) => ({ ...i, path: i.path.replace(/^content\.?/, '') }));
    return json({ issues }, { status: 422 });
  }
  return json({ error: saveDraft.message }, { status: saveDraft.code === 'FORBIDDEN' ? 403 : 400 });
};
