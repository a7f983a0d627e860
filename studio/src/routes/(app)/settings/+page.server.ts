import { fail } from '@sveltejs/kit';
import { ZEnvironmentInput } from '@doorstep/schema';
import { api, isApiError } from '$lib/server/api';

const AUDIT_PAGE = 25;

export const load = async ({ locals, url }) => {
  const client = api(locals.token);
  const isAdmin = locals.member!.role === 'admin';
  const action = url.searchParams.get('action') || null;
  const before = url.searchParams.get('before') || null;
  const base = await client.request(
    `query($action: String, $before: DateTime, $limit: Int) {
      environments { key name createdAt }
      members { id email name role invitePending createdAt }
      auditLog(action: $action, before: $before, limit: $limit) { id actor action targetType data createdAt }
    }`,
    { action, before, limit: AUDIT_PAGE },
  );
  const admin = isAdmin ? await client.request('{ apiKeys { id name kind role prefix environment { name } createdAt createdBy revokedAt } }') : { apiKeys: [] };
  return { ...base, ...admin, isAdmin, auditFilter: action ?? '', auditPageSize: AUDIT_PAGE };
};

const fieldError = (result: { issues?: Array<{ message: string }>; message: string }) => result.issues?.[0]?.message ?? result.message;

export const actions = {
  createEnvironment: async ({ request, locals }) => {
    const form = Object.fromEntries(await request.formData());
    const input = ZEnvironmentInput.safeParse(form);
    if (!input.success) return fail(400, { section: 'environments', error: input.error.issues[0].message });
    const { createEnvironment } = await api(locals.token).request(
      `mutation($input: CreateEnvironmentInput!) { createEnvironment(input: $input) { __typename ... on Error { message } ... on ValidationError { issues { message } } } }`, { input: input.data });
    if (isApiError(createEnvironment)) return fail(400, { section: 'environments', error: fieldError(createEnvironment) });
    return { section: 'environments', ok: `Environment “${input.data.name}” created.` };
  },
  createKey: async ({ request, locals }) => {
    const form = await request.formData();
    const kind = String(form.get('kind'));
    const input = { name: String(form.get('name') ?? ''), kind, ...(kind === 'public' ? { environmentKey: String(form.get('environmentKey')) } : { role: String(form.get('role')) }) };
    const { createApiKey } = await api(locals.token).request(
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename ... on ApiKeyCreated { secret apiKey { name } } ... on Error { message } ... on ValidationError { issues { message } } } }`, { input });
    if (isApiError(createApiKey)) return fail(400, { section: 'keys', error: fieldError(createApiKey) });
    return { section: 'keys', newKey: { name: createApiKey.apiKey.name, secret: createApiKey.secret } };
  },
  revokeKey: async ({ request, locals }) => {
    const id = String((await request.formData()).get('id'));
    const { revokeApiKey } = await api(locals.token).request(`mutation($id: ID!) { revokeApiKey(id: $id) { __typename ... on Error { message } ... on ValidationError { issues { message } } } }`, { id });
    if (isApiError(revokeApiKey)) return fail(400, { section: 'keys', error: fieldError(revokeApiKey) });
    return { section: 'keys', ok: 'Key revoked. Apps using it are refused from now on.' };
  },
  invite: async ({ request, locals, url }) => {
    const form = await request.formData();
    const { inviteMember } = await api(locals.token).request(
      `mutation($input: InviteMemberInput!) { inviteMember(input: $input) { __typename ... on Invited { inviteToken member { email } } ... on Error { message } ... on ValidationError { issues { message } } } }`,
      { input: { email: String(form.get('email') ?? ''), role: String(form.get('role')) } });
    if (isApiError(inviteMember)) return fail(400, { section: 'members', error: fieldError(inviteMember) });
    return { section: 'members', invite: { email: inviteMember.member.email, link: `${url.origin}/invite/${inviteMember.inviteToken}` } };
  },
  changeRole: async ({ request, locals }) => {
    const form = await request.formData();
    const { changeMemberRole } = await api(locals.token).request(
      `mutation($id: ID!, $role: Role!) { changeMemberRole(memberId: $id, role: $role) { __typename ... on Error { message } ... on ValidationError { issues { message } } } }`,
      { id: String(form.get('id')), role: String(form.get('role')) });
    if (isApiError(changeMemberRole)) return fail(400, { section: 'members', error: fieldError(changeMemberRole) });
    return { section: 'members', ok: 'Role changed. It applies right away.' };
  },
  removeMember: async ({ request, locals }) => {
    const { removeMember } = await api(locals.token).request(
      `mutation($id: ID!) { removeMember(memberId: $id) { __typename ... on Error { message } ... on ValidationError { issues { message } } } }`, { id: String((await request.formData()).get('id')) });
    if (isApiError(removeMember)) return fail(400, { section: 'members', error: fieldError(removeMember) });
    return { section: 'members', ok: 'Member removed.' };
  },
};
