import type { TTestApi } from './api.ts';

export const INVITE = `mutation($input: InviteMemberInput!) { inviteMember(input: $input) {
  __typename ... on Invited { inviteToken member { id email role invitePending } } ... on ValidationError { issues { path message } } ... on Error { code }
} }`;
export const ACCEPT = `mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) {
  __typename ... on SignedIn { token member { id email role } } ... on Error { code message }
} }`;
export const MEMBER_PASSWORD = 'correct horse battery';

let counter = 0;
export const uniqueEmail = (name: string) => `${name}-${Date.now()}-${counter++}@example.com`;

/** A member who was invited with `role` and accepted, signed in: their session token and id. */
export async function invitedMember(api: TTestApi, adminKey: string, role: string) {
  const email = uniqueEmail(role);
  const invited = (await api.gql(adminKey, INVITE, { input: { email, role } })).data!.inviteMember;
  const accepted = (await api.gql(null, ACCEPT, { input: { token: invited.inviteToken, name: `A ${role}`, password: MEMBER_PASSWORD } })).data!.acceptInvitation;
  return { email, token: accepted.token as string, id: accepted.member.id as string };
}
