import { fail } from '@sveltejs/kit';
import { message, setError, superValidate } from 'sveltekit-superforms';
import { zod4 } from 'sveltekit-superforms/adapters';
import { graphql } from '$lib/graphql';
import { api, ApiError, isApiError, type TApiError } from '$lib/server/api';
import { auditLogPage } from '$lib/server/audit-log';
import { apiErrorToForm } from '$lib/server/form-errors';
import { importUpload } from '$lib/server/workspace-bundle';
import {
  originList, ZApiKeyForm, ZApiKeyOriginsForm, ZEnvironmentForm, ZEnvironmentKeyForm, ZIdForm, ZInviteForm, ZMemberRoleForm,
} from '$lib/schemas';
import type { Actions, PageServerLoad } from './$types';

const SETTINGS = graphql(`
  query Settings {
    environments { key name identityVerification trustedDocumentsOnly createdAt }
    members { id email name role invitePending createdAt }
  }
`);
const API_KEYS = graphql(`
  query ApiKeys { apiKeys { id name kind role prefix environment { name } allowedOrigins createdAt createdBy revokedAt } }
`);
const CREATE_ENVIRONMENT = graphql(`
  mutation CreateEnvironment($input: CreateEnvironmentInput!) { createEnvironment(input: $input) { __typename ...ApiError } }
`, [ApiError]);
const CREATE_API_KEY = graphql(`
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { __typename ... on ApiKeyCreated { secret apiKey { name } } ...ApiError }
  }
`, [ApiError]);
const SET_API_KEY_ORIGINS = graphql(`
  mutation SetApiKeyOrigins($id: ID!, $allowedOrigins: [String!]!) {
    setApiKeyOrigins(id: $id, allowedOrigins: $allowedOrigins) { __typename ... on ApiKey { name allowedOrigins } ...ApiError }
  }
`, [ApiError]);
const ENABLE_IDENTITY = graphql(`
  mutation EnableIdentityVerification($environmentKey: String!) {
    enableIdentityVerification(environmentKey: $environmentKey) { __typename ... on IdentitySecret { secret environment { name } } ...ApiError }
  }
`, [ApiError]);
const DISABLE_IDENTITY = graphql(`
  mutation DisableIdentityVerification($environmentKey: String!) {
    disableIdentityVerification(environmentKey: $environmentKey) { __typename ... on Environment { name } ...ApiError }
  }
`, [ApiError]);
const SET_TRUSTED_DOCUMENTS = graphql(`
  mutation SetTrustedDocumentsOnly($environmentKey: String!, $enabled: Boolean!) {
    setTrustedDocumentsOnly(environmentKey: $environmentKey, enabled: $enabled) { __typename ... on Environment { name trustedDocumentsOnly } ...ApiError }
  }
`, [ApiError]);
const REVOKE_API_KEY = graphql(`mutation RevokeApiKey($id: ID!) { revokeApiKey(id: $id) { __typename ...ApiError } }`, [ApiError]);
const INVITE_MEMBER = graphql(`
  mutation InviteMember($input: InviteMemberInput!) {
    inviteMember(input: $input) { __typename ... on Invited { inviteToken member { email } } ...ApiError }
  }
`, [ApiError]);
const CHANGE_MEMBER_ROLE = graphql(`
  mutation ChangeMemberRole($id: ID!, $role: Role!) { changeMemberRole(memberId: $id, role: $role) { __typename ...ApiError } }
`, [ApiError]);
const REMOVE_MEMBER = graphql(`mutation RemoveMember($id: ID!) { removeMember(memberId: $id) { __typename ...ApiError } }`, [ApiError]);
const ISSUE_PASSWORD_RESET = graphql(`
  mutation IssuePasswordReset($id: ID!) {
    issuePasswordReset(memberId: $id) { __typename ... on PasswordResetIssued { resetToken member { email } } ...ApiError }
  }
`, [ApiError]);
const END_MEMBER_SESSIONS = graphql(`
  mutation EndMemberSessions($id: ID!) { endMemberSessions(memberId: $id) { __typename ... on Member { email } ...ApiError } }
`, [ApiError]);

/** Row actions show one line: the first problem the API named, or what failed. */
const firstProblem = (result: TApiError) => (result.__typename === 'ValidationError' ? result.issues[0]?.message : undefined) ?? result.message;

export const load = (async ({ locals, url }) => {
  const client = api(locals.token);
  const isAdmin = locals.member?.role === 'admin';
  const action = url.searchParams.get('action') || null;
  const [settings, apiKeys, auditLog] = await Promise.all([
    client.request(SETTINGS),
    isAdmin ? client.request(API_KEYS).then((r) => r.apiKeys) : [],
    auditLogPage(client, { action, after: url.searchParams.get('after') || null }),
  ]);
  return {
    ...settings, apiKeys, isAdmin, auditLog, auditFilter: action ?? '',
    environmentForm: await superValidate(zod4(ZEnvironmentForm), { id: 'environment' }),
    apiKeyForm: await superValidate({ kind: 'public', environmentKey: settings.environments[0]?.key ?? '' }, zod4(ZApiKeyForm), { id: 'api-key', errors: false }),
    inviteForm: await superValidate({ role: 'editor' }, zod4(ZInviteForm), { id: 'invite', errors: false }),
    originsForm: await superValidate(zod4(ZApiKeyOriginsForm), { id: 'key-origins' }),
  };
}) satisfies PageServerLoad;

export const actions = {
  createEnvironment: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZEnvironmentForm), { id: 'environment' });
    if (!form.valid) return fail(400, { form });
    const { createEnvironment } = await api(locals.token).request(CREATE_ENVIRONMENT, { input: form.data });
    if (isApiError(createEnvironment)) return apiErrorToForm(form, createEnvironment, { key: 'key', name: 'name' });
    return message(form, `Environment “${form.data.name}” created.`);
  },
  enableIdentity: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZEnvironmentKeyForm), { id: 'enable-identity' });
    if (!form.valid) return fail(400, { form });
    const { enableIdentityVerification: enabled } = await api(locals.token).request(ENABLE_IDENTITY, form.data);
    if (isApiError(enabled)) return setError(form, firstProblem(enabled));
    return { form, identitySecret: { environment: enabled.environment.name, secret: enabled.secret } };
  },
  disableIdentity: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZEnvironmentKeyForm), { id: 'disable-identity' });
    if (!form.valid) return fail(400, { form });
    const { disableIdentityVerification: disabled } = await api(locals.token).request(DISABLE_IDENTITY, form.data);
    if (isApiError(disabled)) return setError(form, firstProblem(disabled));
    return message(form, `Identity verification is off in ${disabled.name}: user ids are no longer checked there.`);
  },
  trustedDocuments: async ({ request, locals }) => {
    const data = await request.formData();
    const form = await superValidate(data, zod4(ZEnvironmentKeyForm), { id: 'trusted-documents' });
    if (!form.valid) return fail(400, { form });
    const enabled = data.get('enabled') === 'true';
    const { setTrustedDocumentsOnly: set } = await api(locals.token).request(SET_TRUSTED_DOCUMENTS, { ...form.data, enabled });
    if (isApiError(set)) return setError(form, firstProblem(set));
    return message(form, set.trustedDocumentsOnly
      ? `${set.name} now answers public keys only for the documents @doorstep/client sends.`
      : `${set.name} answers any runtime document from public keys again.`);
  },
  createKey: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZApiKeyForm), { id: 'api-key' });
    if (!form.valid) return fail(400, { form });
    const { kind, name, environmentKey, allowedOrigins, role } = form.data;
    const input = kind === 'public' ? { kind, name, environmentKey, allowedOrigins: originList(allowedOrigins) } : { kind, name, role };
    const { createApiKey } = await api(locals.token).request(CREATE_API_KEY, { input });
    if (isApiError(createApiKey)) {
      return apiErrorToForm(form, createApiKey, { name: 'name', environmentKey: 'environmentKey', allowedOrigins: 'allowedOrigins', role: 'role' });
    }
    return { form, newKey: { name: createApiKey.apiKey.name, secret: createApiKey.secret } };
  },
  setKeyOrigins: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZApiKeyOriginsForm), { id: 'key-origins' });
    if (!form.valid) return fail(400, { form });
    const { setApiKeyOrigins: key } = await api(locals.token).request(SET_API_KEY_ORIGINS, { id: form.data.id, allowedOrigins: originList(form.data.allowedOrigins) });
    if (isApiError(key)) return apiErrorToForm(form, key, { allowedOrigins: 'allowedOrigins' });
    return message(form, key.allowedOrigins.length
      ? `“${key.name}” now works in browsers on ${key.allowedOrigins.join(', ')} only.`
      : `“${key.name}” now works in browsers on any origin.`);
  },
  revokeKey: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZIdForm), { id: 'revoke-key' });
    if (!form.valid) return fail(400, { form });
    const { revokeApiKey } = await api(locals.token).request(REVOKE_API_KEY, form.data);
    if (isApiError(revokeApiKey)) return setError(form, firstProblem(revokeApiKey));
    return message(form, 'Key revoked. Apps using it are refused from now on.');
  },
  invite: async ({ request, locals, url }) => {
    const form = await superValidate(request, zod4(ZInviteForm), { id: 'invite' });
    if (!form.valid) return fail(400, { form });
    const { inviteMember } = await api(locals.token).request(INVITE_MEMBER, { input: form.data });
    if (isApiError(inviteMember)) return apiErrorToForm(form, inviteMember, { email: 'email', role: 'role' });
    return { form, invite: { email: inviteMember.member.email, link: `${url.origin}/invite/${inviteMember.inviteToken}` } };
  },
  changeRole: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZMemberRoleForm), { id: 'change-role' });
    if (!form.valid) return fail(400, { form });
    const { changeMemberRole } = await api(locals.token).request(CHANGE_MEMBER_ROLE, form.data);
    if (isApiError(changeMemberRole)) return setError(form, firstProblem(changeMemberRole));
    return message(form, 'Role changed. It applies right away.');
  },
  removeMember: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZIdForm), { id: 'remove-member' });
    if (!form.valid) return fail(400, { form });
    const { removeMember } = await api(locals.token).request(REMOVE_MEMBER, form.data);
    if (isApiError(removeMember)) return setError(form, firstProblem(removeMember));
    return message(form, 'Member removed.');
  },
  previewImport: ({ request, locals }) => importUpload(request, locals.token, true),
  importBundle: ({ request, locals }) => importUpload(request, locals.token, false),
  issueReset: async ({ request, locals, url }) => {
    const form = await superValidate(request, zod4(ZIdForm), { id: 'issue-reset' });
    if (!form.valid) return fail(400, { form });
    const { issuePasswordReset: issued } = await api(locals.token).request(ISSUE_PASSWORD_RESET, form.data);
    if (isApiError(issued)) return setError(form, firstProblem(issued));
    return { form, resetLink: { email: issued.member.email, link: `${url.origin}/reset/${issued.resetToken}` } };
  },
  endSessions: async ({ request, locals }) => {
    const form = await superValidate(request, zod4(ZIdForm), { id: 'end-sessions' });
    if (!form.valid) return fail(400, { form });
    const { endMemberSessions: ended } = await api(locals.token).request(END_MEMBER_SESSIONS, form.data);
    if (isApiError(ended)) return setError(form, firstProblem(ended));
    return message(form, `${ended.email} is signed out everywhere.`);
  },
} satisfies Actions;
