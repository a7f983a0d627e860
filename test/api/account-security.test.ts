import { describe, expect, it, vi } from 'vitest';
import type { TSessionPolicy } from '../../api/src/auth/sessions.ts';
import type { TSeedResult } from '../../api/src/seed.ts';
import { useTestApi, useTestWorkspace, type TTestApi } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';
import { ACCEPT, INVITE, invitedMember, MEMBER_PASSWORD, uniqueEmail } from '../support/members.ts';

const SIGN_IN = `mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) {
  __typename ... on SignedIn { token member { id workspace { id } } } ... on Error { code message }
} }`;
const CHANGE_PASSWORD = `mutation($input: ChangePasswordInput!) { changePassword(input: $input) {
  __typename ... on SignedIn { token } ... on ValidationError { issues { path message } } ... on Error { code }
} }`;
const ISSUE_RESET = `mutation($id: ID!) { issuePasswordReset(memberId: $id) {
  __typename ... on PasswordResetIssued { resetToken expiresAt member { email } } ... on ValidationError { issues { path message } } ... on Error { code }
} }`;
const RESET = `mutation($input: ResetPasswordInput!) { resetPassword(input: $input) { __typename ... on SignedIn { token } ... on Error { code } } }`;
const ROTATE = 'mutation { rotateSession { token expiresAt } }';
const NEW_PASSWORD = 'a brand new passphrase';

/** The code a token gets on a management query: null while it works. */
async function refusalOf(api: TTestApi, token: string): Promise<string | null> {
  const res = await api.gql(token, '{ flows { key } }');
  return res.errors?.[0]?.extensions?.code ?? null;
}

async function signIn(api: TTestApi, email: string, password: string) {
  return (await api.gql(null, SIGN_IN, { e: email, p: password })).data!.signIn;
}

/** Runs `body` with some session rules shortened, on this API only. */
async function withPolicy(api: TTestApi, changes: Partial<TSessionPolicy>, body: () => Promise<void>) {
  const keys = api.app.services.keys;
  const saved = keys.sessionPolicy;
  keys.sessionPolicy = { ...saved, ...changes };
  try {
    await body();
  } finally {
    keys.sessionPolicy = saved;
  }
}

/** A second workspace for one test. */
async function withOtherWorkspace(api: TTestApi, body: (other: TSeedResult) => Promise<void>) {
  const other = await api.createWorkspace();
  try {
    await body(other);
  } finally {
    await api.dropWorkspace(other);
  }
}

describe.each(DATABASE_KINDS)('account security on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);
  const prisma = () => api.database.db.prisma;

  describe('password change', () => {
    it('should change the password and end every other session of the member', async () => {
      const member = await invitedMember(api, ws.secretKey, 'editor');
      const other = await signIn(api, member.email, MEMBER_PASSWORD);
      expect(await refusalOf(api, other.token)).toBeNull();
      const changed = (await api.gql(member.token, CHANGE_PASSWORD, { input: { currentPassword: MEMBER_PASSWORD, newPassword: NEW_PASSWORD } })).data!.changePassword;
      expect(changed.__typename).toBe('SignedIn');
      expect(await refusalOf(api, changed.token)).toBeNull();
      expect(await refusalOf(api, member.token)).toBe('UNAUTHENTICATED');
      expect(await refusalOf(api, other.token)).toBe('UNAUTHENTICATED');
      expect((await signIn(api, member.email, MEMBER_PASSWORD)).code).toBe('UNAUTHENTICATED');
      expect((await signIn(api, member.email, NEW_PASSWORD)).__typename).toBe('SignedIn');
    });

    it('should refuse a wrong current password and keep the sessions', async () => {
      const member = await invitedMember(api, ws.secretKey, 'viewer');
      const res = (await api.gql(member.token, CHANGE_PASSWORD, { input: { currentPassword: 'not my password', newPassword: NEW_PASSWORD } })).data!.changePassword;
      expect(res).toMatchObject({ __typename: 'ValidationError', issues: [{ path: 'currentPassword', message: 'This is not your current password' }] });
      expect(await refusalOf(api, member.token)).toBeNull();
      expect((await signIn(api, member.email, MEMBER_PASSWORD)).__typename).toBe('SignedIn');
    });

    it('should validate the new password with the rule of invitations', async () => {
      const member = await invitedMember(api, ws.secretKey, 'viewer');
      const res = (await api.gql(member.token, CHANGE_PASSWORD, { input: { currentPassword: MEMBER_PASSWORD, newPassword: 'short' } })).data!.changePassword;
      expect(res.issues).toEqual([{ path: 'newPassword', message: 'Use at least 10 characters' }]);
    });

    it('should refuse a password change through an API key', async () => {
      const res = (await api.gql(ws.secretKey, CHANGE_PASSWORD, { input: { currentPassword: MEMBER_PASSWORD, newPassword: NEW_PASSWORD } })).data!.changePassword;
      expect(res).toEqual({ __typename: 'UnauthenticatedError', code: 'UNAUTHENTICATED' });
    });
  });

  describe('reset links', () => {
    it('should reset a password once with an admin-issued link, ending the member\'s sessions', async () => {
      const member = await invitedMember(api, ws.secretKey, 'editor');
      const issued = (await api.gql(ws.secretKey, ISSUE_RESET, { id: member.id })).data!.issuePasswordReset;
      expect(issued.member.email).toBe(member.email);
      const lookup = await api.gql(null, 'query($t: String!) { passwordReset(token: $t) { email } }', { t: issued.resetToken });
      expect(lookup.data!.passwordReset).toEqual({ email: member.email });
      const reset = (await api.gql(null, RESET, { input: { token: issued.resetToken, password: NEW_PASSWORD } })).data!.resetPassword;
      expect(reset.__typename).toBe('SignedIn');
      expect(await refusalOf(api, member.token)).toBe('UNAUTHENTICATED');
      expect(await refusalOf(api, reset.token)).toBeNull();
      expect((await signIn(api, member.email, NEW_PASSWORD)).__typename).toBe('SignedIn');
      const again = (await api.gql(null, RESET, { input: { token: issued.resetToken, password: 'yet another passphrase' } })).data!.resetPassword;
      expect(again).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
      expect((await api.gql(null, 'query($t: String!) { passwordReset(token: $t) { email } }', { t: issued.resetToken })).data!.passwordReset).toBeNull();
    });

    it('should refuse an expired reset link', async () => {
      const member = await invitedMember(api, ws.secretKey, 'viewer');
      const issued = (await api.gql(ws.secretKey, ISSUE_RESET, { id: member.id })).data!.issuePasswordReset;
      await prisma().member.update({ where: { id: member.id }, data: { resetExpiresAt: new Date(Date.now() - 1000) } });
      const reset = (await api.gql(null, RESET, { input: { token: issued.resetToken, password: NEW_PASSWORD } })).data!.resetPassword;
      expect(reset).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
      expect(await refusalOf(api, member.token)).toBeNull();
    });

    it('should record issuing and using a reset link in the audit log', async () => {
      const member = await invitedMember(api, ws.secretKey, 'viewer');
      const issued = (await api.gql(ws.secretKey, ISSUE_RESET, { id: member.id })).data!.issuePasswordReset;
      await api.gql(null, RESET, { input: { token: issued.resetToken, password: NEW_PASSWORD } });
      const entries = await prisma().auditEntry.findMany({ where: { workspaceId: ws.workspaceId, targetId: member.id }, orderBy: { createdAt: 'asc' } });
      expect(entries.map((e) => [e.action, e.actor]).slice(-2)).toEqual([['member.resetIssued', expect.stringMatching(/^key:/)], ['member.reset', member.email]]);
    });

    it('should not issue a reset link for a member of another workspace', async () => {
      await withOtherWorkspace(api, async (other) => {
        const stranger = await invitedMember(api, other.secretKey, 'viewer');
        expect((await api.gql(ws.secretKey, ISSUE_RESET, { id: stranger.id })).data!.issuePasswordReset).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
      });
    });

    it('should not issue a reset link for an invitation not yet accepted', async () => {
      const invited = (await api.gql(ws.secretKey, INVITE, { input: { email: uniqueEmail('pending'), role: 'viewer' } })).data!.inviteMember;
      expect((await api.gql(ws.secretKey, ISSUE_RESET, { id: invited.member.id })).data!.issuePasswordReset.issues[0].path).toBe('memberId');
    });
  });

  describe('signing out everywhere', () => {
    it('should end every session of the calling member, cached ones included', async () => {
      const member = await invitedMember(api, ws.secretKey, 'viewer');
      const other = await signIn(api, member.email, MEMBER_PASSWORD);
      // Both resolved once, so both sit in the key cache.
      expect([await refusalOf(api, member.token), await refusalOf(api, other.token)]).toEqual([null, null]);
      expect((await api.gql(member.token, 'mutation { signOutEverywhere }')).data!.signOutEverywhere).toBe(true);
      expect([await refusalOf(api, member.token), await refusalOf(api, other.token)]).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
      expect(await prisma().session.count({ where: { memberId: member.id } })).toBe(0);
    });

    it('should tell every API node to drop its cached sessions', async () => {
      const member = await invitedMember(api, ws.secretKey, 'viewer');
      const publish = vi.spyOn(api.app.services.bus, 'publish');
      try {
        await api.gql(member.token, 'mutation { signOutEverywhere }');
        expect(publish).toHaveBeenCalledWith({ type: 'keys' });
      } finally {
        publish.mockRestore();
      }
    });

    it('should let an admin end every session of another member', async () => {
      const member = await invitedMember(api, ws.secretKey, 'editor');
      const admin = await invitedMember(api, ws.secretKey, 'admin');
      expect(await refusalOf(api, member.token)).toBeNull();
      const res = await api.gql(admin.token, 'mutation($id: ID!) { endMemberSessions(memberId: $id) { __typename ... on Member { email } } }', { id: member.id });
      expect(res.data!.endMemberSessions).toEqual({ __typename: 'Member', email: member.email });
      expect(await refusalOf(api, member.token)).toBe('UNAUTHENTICATED');
      expect(await refusalOf(api, admin.token)).toBeNull();
    });

    it('should answer false to an API key signing out everywhere', async () => {
      expect((await api.gql(ws.secretKey, 'mutation { signOutEverywhere }')).data!.signOutEverywhere).toBe(false);
    });
  });

  describe('session lifetime', () => {
    it('should end a session left unused for longer than the idle limit', async () => {
      const member = await invitedMember(api, ws.secretKey, 'viewer');
      const { idleMs } = api.app.services.keys.sessionPolicy;
      await prisma().session.updateMany({ where: { memberId: member.id }, data: { lastUsedAt: new Date(Date.now() - idleMs - 1000) } });
      api.app.services.keys.invalidate();
      expect(await refusalOf(api, member.token)).toBe('UNAUTHENTICATED');
    });

    it('should keep a session in use alive past the idle limit by recording its use', async () => {
      const member = await invitedMember(api, ws.secretKey, 'viewer');
      await withPolicy(api, { idleMs: 60_000, touchEveryMs: 0 }, async () => {
        await prisma().session.updateMany({ where: { memberId: member.id }, data: { lastUsedAt: new Date(Date.now() - 50_000) } });
        api.app.services.keys.invalidate();
        expect(await refusalOf(api, member.token)).toBeNull();
        const session = await prisma().session.findFirstOrThrow({ where: { memberId: member.id } });
        expect(Date.now() - session.lastUsedAt.getTime()).toBeLessThan(10_000);
      });
    });

    it('should record a session\'s use at most once per interval', async () => {
      const member = await invitedMember(api, ws.secretKey, 'viewer');
      const recently = new Date(Date.now() - 60_000);
      await prisma().session.updateMany({ where: { memberId: member.id }, data: { lastUsedAt: recently } });
      api.app.services.keys.invalidate();
      expect(await refusalOf(api, member.token)).toBeNull();
      expect((await prisma().session.findFirstOrThrow({ where: { memberId: member.id } })).lastUsedAt).toEqual(recently);
    });

    it('should end a session at its absolute end, however recently used', async () => {
      const member = await invitedMember(api, ws.secretKey, 'viewer');
      await prisma().session.updateMany({ where: { memberId: member.id }, data: { expiresAt: new Date(Date.now() - 1000), lastUsedAt: new Date() } });
      api.app.services.keys.invalidate();
      expect(await refusalOf(api, member.token)).toBe('UNAUTHENTICATED');
    });

    it('should say when a session is due for rotation', async () => {
      const member = await invitedMember(api, ws.secretKey, 'viewer');
      expect((await api.gql(member.token, '{ currentSession { rotationDue } }')).data!.currentSession).toEqual({ rotationDue: false });
      await withPolicy(api, { rotateAfterMs: 0 }, async () => {
        expect((await api.gql(member.token, '{ currentSession { rotationDue } }')).data!.currentSession).toEqual({ rotationDue: true });
      });
      expect((await api.gql(ws.secretKey, '{ currentSession { rotationDue } }')).data!.currentSession).toBeNull();
    });

    it('should rotate a session: the new token works, the old one only for the grace, and the absolute end stays', async () => {
      const member = await invitedMember(api, ws.secretKey, 'viewer');
      const before = await prisma().session.findFirstOrThrow({ where: { memberId: member.id } });
      await withPolicy(api, { rotationGraceMs: 500 }, async () => {
        const rotated = (await api.gql(member.token, ROTATE)).data!.rotateSession;
        expect(new Date(rotated.expiresAt)).toEqual(before.expiresAt);
        expect(await refusalOf(api, rotated.token)).toBeNull();
        expect(await refusalOf(api, member.token)).toBeNull();
        await new Promise((resolve) => setTimeout(resolve, 600));
        expect(await refusalOf(api, member.token)).toBe('UNAUTHENTICATED');
        expect(await refusalOf(api, rotated.token)).toBeNull();
      });
    });

    it('should rotate a token only once', async () => {
      const member = await invitedMember(api, ws.secretKey, 'viewer');
      expect((await api.gql(member.token, ROTATE)).data!.rotateSession.token).toMatch(/^dss_/);
      expect((await api.gql(member.token, ROTATE)).data!.rotateSession).toBeNull();
    });
  });

  describe('one email in several workspaces', () => {
    it('should invite an email that belongs to another workspace exactly like a fresh one', async () => {
      await withOtherWorkspace(api, async (other) => {
        const elsewhere = await invitedMember(api, other.secretKey, 'admin');
        const shape = (res: any) => ({ ...res.data.inviteMember, inviteToken: typeof res.data.inviteMember.inviteToken, member: { ...res.data.inviteMember.member, id: 'id', email: 'email' } });
        const known = await api.gql(ws.secretKey, INVITE, { input: { email: elsewhere.email, role: 'viewer' } });
        const fresh = await api.gql(ws.secretKey, INVITE, { input: { email: uniqueEmail('fresh'), role: 'viewer' } });
        expect(known.errors).toBeUndefined();
        expect(shape(known)).toEqual(shape(fresh));
        expect(known.data.inviteMember.member.email).toBe(elsewhere.email);
      });
    });

    it('should sign in to the workspace whose password was given', async () => {
      await withOtherWorkspace(api, async (other) => {
        const email = uniqueEmail('twice');
        for (const [key, password] of [[ws.secretKey, 'password of the first'], [other.secretKey, 'password of the second']]) {
          const invited = (await api.gql(key, INVITE, { input: { email, role: 'editor' } })).data!.inviteMember;
          expect((await api.gql(null, ACCEPT, { input: { token: invited.inviteToken, name: 'Twice', password } })).data!.acceptInvitation.__typename).toBe('SignedIn');
        }
        expect((await signIn(api, email, 'password of the first')).member.workspace.id).toBe(ws.workspaceId);
        expect((await signIn(api, email, 'password of the second')).member.workspace.id).toBe(other.workspaceId);
        expect((await signIn(api, email, 'password of neither')).code).toBe('UNAUTHENTICATED');
      });
    });
  });
});

describe('account security races on postgres', () => {
  const api = useTestApi('postgres');
  const ws = useTestWorkspace(api);
  const ROUNDS = 5;

  it('should let exactly one of parallel uses of a reset link through', async () => {
    const broken: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const member = await invitedMember(api, ws.secretKey, 'viewer');
      const issued = (await api.gql(ws.secretKey, ISSUE_RESET, { id: member.id })).data!.issuePasswordReset;
      const results = await Promise.all([1, 2, 3, 4, 5].map((n) => api.gql(null, RESET, { input: { token: issued.resetToken, password: `new passphrase ${n}` } })));
      const typenames = results.map((r) => r.data?.resetPassword.__typename);
      const sessions = await api.database.db.prisma.session.count({ where: { memberId: member.id } });
      if (typenames.filter((t) => t === 'SignedIn').length !== 1 || sessions !== 1) broken.push(`round ${round}: ${typenames.join(', ')}; ${sessions} sessions`);
      expect(typenames.filter((t) => t !== 'SignedIn').every((t) => t === 'NotFoundError')).toBe(true);
    }
    expect(broken).toEqual([]);
  });

  it('should rotate a token once when parallel requests ask', async () => {
    const broken: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const member = await invitedMember(api, ws.secretKey, 'viewer');
      const results = await Promise.all([1, 2, 3, 4].map(() => api.gql(member.token, ROTATE)));
      const rotated = results.filter((r) => r.data?.rotateSession);
      const sessions = await api.database.db.prisma.session.count({ where: { memberId: member.id } });
      if (rotated.length !== 1 || sessions !== 2) broken.push(`round ${round}: rotated ${rotated.length} times, ${sessions} sessions`);
    }
    expect(broken).toEqual([]);
  });
});
