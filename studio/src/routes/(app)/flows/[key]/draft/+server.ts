import { json } from '@sveltejs/kit';
import { z } from 'zod';
import type { TSaveAnswer } from '$lib/draft-editor.svelte';
import { graphql } from '$lib/graphql';
import { api, ApiError, isApiError } from '$lib/server/api';
import type { RequestHandler } from './$types';

const ZSaveRequest = z.object({ revision: z.number().int().min(1), content: z.unknown() });
const DRAFT = graphql(`query Draft($key: String!) { flow(key: $key) { draft { revision content warnings updatedBy updatedAt } } }`);
const SAVE_DRAFT = graphql(`
  mutation SaveDraft($key: String!, $revision: Int!, $content: JSON!) {
    saveDraft(flowKey: $key, revision: $revision, content: $content) {
      __typename ... on FlowDraft { revision warnings updatedAt } ... on ConflictError { currentRevision } ...ApiError
    }
  }
`, [ApiError]);

const answer = (body: TSaveAnswer, status = 200) => json(body, { status });

export const GET: RequestHandler = async ({ locals, params }) => {
  const { flow } = await api(locals.token).request(DRAFT, { key: params.key });
  return json(flow?.draft ?? null);
};

/** Autosave target: answers { saved }, { conflict } or { issues } so the editor can react to each. */
export const POST: RequestHandler = async ({ locals, params, request }) => {
  const body = ZSaveRequest.safeParse(await request.json().catch(() => null));
  if (!body.success) return answer({ error: 'Malformed save request' }, 400);
  const { saveDraft } = await api(locals.token).request(SAVE_DRAFT, { key: params.key, revision: body.data.revision, content: body.data.content });
  if (!isApiError(saveDraft)) return answer({ saved: saveDraft });
  if (saveDraft.__typename === 'ConflictError') return answer({ conflict: { currentRevision: saveDraft.currentRevision, message: saveDraft.message } }, 409);
  if (saveDraft.__typename === 'ValidationError') {
    return answer({ issues: saveDraft.issues.map((i) => ({ ...i, path: i.path.replace(/^content\.?/, '') })) }, 422);
  }
  return answer({ error: saveDraft.message }, saveDraft.code === 'FORBIDDEN' ? 403 : 400);
};
