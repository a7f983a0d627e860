import { describe, expect, it } from 'vitest';
import { ensureSeedAdmin } from '../../api/src/seed.ts';
import { useTestApi, useTestWorkspace, type TTestApi } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';
import { ACCEPT, INVITE, invitedMember, uniqueEmail } from '../support/members.ts';

const SIGN_IN = `mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) {
  __typename ... on SignedIn { token expiresAt member { email role } } ... on Error { code message }
} }`;
const PUBLISH = 'mutation { publishFlow(flowKey: "self-serve", environmentKey: "production") { __typename ... on Error { code } } }';

async function signIn(api: TTestApi, email: string, password: string) {
  return (await api.gql(null, SIGN_IN, { e: email, p: password })).data!.signIn;
}

describe.each(DATABASE_KINDS)('members and sessions on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  it('should invite a member who accepts with a name and password, then signs in', async () => {
    const email = uniqueEmail('ed');
    const invited = (await api.gql(ws.secretKey, INVITE, { input: { email, role: 'editor' } })).data!.inviteMember;
    expect(invited.member).toMatchObject({ email, role: 'editor', invitePending: true });
    expect((await api.gql(null, '{ invitation(token: "nope-nope-nope") { email } }')).data!.invitation).toBeNull();
    const lookup = await api.gql(null, 'query($t: String!) { invitation(token: $t) { email role } }', { t: invited.inviteToken });
    expect(lookup.data!.invitation).toEqual({ email, role: 'editor' });
    const accepted = (await api.gql(null, ACCEPT, { input: { token: invited.inviteToken, name: 'Ed', password: 'correct horse battery' } })).data!.acceptInvitation;
    expect(accepted.member).toMatchObject({ email, role: 'editor' });
    const reuse = (await api.gql(null, ACCEPT, { input: { token: invited.inviteToken, name: 'Ed', password: 'correct horse battery' } })).data!.acceptInvitation;
    expect(reuse.__typename).toBe('NotFoundError');
    const session = await signIn(api, email, 'correct horse battery');
    expect(session.__typename).toBe('SignedIn');
    expect((await api.gql(session.token, '{ me { email role } }')).data!.me).toEqual({ email, role: 'editor' });
  });

  it('should refuse a wrong password or an unknown email with the same message', async () => {
    const { email } = await invitedMember(api, ws.secretKey, 'viewer');
    const wrong = await signIn(api, email, 'not the password');
    const unknown = await signIn(api, uniqueEmail('ghost'), 'not the password');
    expect(wrong).toEqual({ __typename: 'UnauthenticatedError', code: 'UNAUTHENTICATED', message: 'Wrong email or password' });
    expect(unknown).toEqual(wrong);
  });

  it('should enforce member roles in the API: a viewer cannot publish, a publisher can', async () => {
    const viewer = await invitedMember(api, ws.secretKey, 'viewer');
    expect((await api.gql(viewer.token, PUBLISH)).data!.publishFlow).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    expect((await api.gql(viewer.token, '{ flows { key } }')).data!.flows).toHaveLength(4);
    const publisher = await invitedMember(api, ws.secretKey, 'publisher');
    expect((await api.gql(publisher.token, PUBLISH)).data!.publishFlow.__typename).toBe('FlowRelease');
  });

  it('should apply a role change at once', async () => {
    const member = await invitedMember(api, ws.secretKey, 'publisher');
    await api.gql(ws.secretKey, 'mutation($id: ID!) { changeMemberRole(memberId: $id, role: viewer) { __typename } }', { id: member.id });
    expect((await api.gql(member.token, PUBLISH)).data!.publishFlow.__typename).toBe('ForbiddenError');
  });

  it('should end a session on sign-out', async () => {
    const member = await invitedMember(api, ws.secretKey, 'viewer');
    expect((await api.gql(member.token, 'mutation { signOut }')).data!.signOut).toBe(true);
    expect((await api.gql(member.token, '{ flows { key } }')).errors![0].extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('should refuse an expired session', async () => {
    const member = await invitedMember(api, ws.secretKey, 'viewer');
    await api.database.db.prisma.session.updateMany({ where: { memberId: member.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    api.app.services.keys.invalidate();
    expect((await api.gql(member.token, '{ flows { key } }')).errors![0].extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('should keep at least one admin', async () => {
    const admin = await invitedMember(api, ws.secretKey, 'admin');
    const res = await api.gql(admin.token, 'mutation($id: ID!) { changeMemberRole(memberId: $id, role: editor) { __typename ... on ValidationError { issues { message } } } }', { id: admin.id });
    expect(res.data!.changeMemberRole.issues[0].message).toMatch(/at least one admin/);
    expect((await api.gql(admin.token, 'mutation($id: ID!) { removeMember(memberId: $id) { __typename } }', { id: admin.id })).data!.removeMember.__typename).toBe('ValidationError');
  });

  it('should let only admins invite, and refuse an email that is already a member', async () => {
    const editor = await invitedMember(api, ws.secretKey, 'editor');
    expect((await api.gql(editor.token, INVITE, { input: { email: uniqueEmail('x'), role: 'viewer' } })).data!.inviteMember.__typename).toBe('ForbiddenError');
    const again = await api.gql(ws.secretKey, INVITE, { input: { email: editor.email, role: 'viewer' } });
    expect(again.data!.inviteMember.issues[0].path).toBe('email');
  });

  it('should create the configured seed admin once', async () => {
    const email = uniqueEmail('seed-admin');
    expect(await ensureSeedAdmin(api.database.db.prisma, email, 'seed admin password')).toBe(true);
    expect(await ensureSeedAdmin(api.database.db.prisma, email, 'seed admin password')).toBe(false);
    expect((await signIn(api, email, 'seed admin password')).member.role).toBe('admin');
    await api.database.db.prisma.member.deleteMany({ where: { email } });
  });
});

describe.each(DATABASE_KINDS)('first admin setup on %s', (kind) => {
  const api = useTestApi(kind);

  it('should allow setup only while no member exists, once even when raced', async () => {
    expect((await api.gql(null, '{ setupRequired }')).data!.setupRequired).toBe(true);
    const ws = await api.createWorkspace();
    try {
      const setup = (email: string) => api.gql(null, `mutation($i: SetupInput!) { setupFirstAdmin(input: $i) { __typename ... on SignedIn { member { role } } } }`, {
        i: { email, name: 'First', password: 'first admin password' },
      });
      const results = await Promise.all([setup('one@example.com'), setup('two@example.com')]);
      expect(results.map((r) => r.data!.setupFirstAdmin.__typename).sort()).toEqual(['ForbiddenError', 'SignedIn']);
      expect((await api.gql(null, '{ setupRequired }')).data!.setupRequired).toBe(false);
    } finally {
      await api.dropWorkspace(ws);
    }
  });

  it('should validate setup input with paths', async () => {
    const res = await api.gql(null, `mutation { setupFirstAdmin(input: { email: "not-an-email", name: "", password: "short" }) { ... on ValidationError { issues { path } } } }`);
    expect(res.data!.setupFirstAdmin.issues.map((i: any) => i.path).sort()).toEqual(['email', 'name', 'password']);
  });
});
