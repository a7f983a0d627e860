import { ZChangePasswordInput, ZResetPasswordInput } from '@doorstep/schema';
import { builder } from '../builder.ts';
import type { TManagementPrincipal } from '../auth/principal.ts';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import { hashToken, newResetToken, openSession } from '../auth/sessions.ts';
import type { TContext } from '../context.ts';
import { NotFoundError, RateLimitedError, UnauthenticatedError, ValidationError, invalid, waitInWords } from '../errors.ts';
import { auditedWrite, managementWrite } from '../domain/management-write.ts';
import { WRITE_ERRORS } from './errors.ts';
import { findMemberOrThrow, Member, SignedIn, type TSignedIn } from './members.ts';

/** A reset link is for the member the admin is talking to now, not for the mailbox to keep. */
export const RESET_TTL_MS = 3600_000;

type TSessionPrincipal = TManagementPrincipal & { kind: 'member'; sessionHash: string };

/** The caller's studio session, or null for API keys and anonymous callers. */
function sessionOf(ctx: TContext): TSessionPrincipal | null {
  const principal = ctx.principal;
  return principal?.kind === 'member' && principal.sessionHash ? (principal as TSessionPrincipal) : null;
}

const CurrentSession = builder.objectRef<{ createdAt: Date; rotationDue: boolean }>('CurrentSession').implement({
  description: 'The calling studio session',
  fields: (t) => ({
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When this token was issued (at sign-in or by the last rotation)' }),
    rotationDue: t.exposeBoolean('rotationDue', { description: 'True once the token is old enough that the studio should call rotateSession' }),
  }),
});

builder.queryField('currentSession', (t) =>
  t.withAuth({ anyone: true }).field({
    skipTypeScopes: true,
    type: CurrentSession,
    nullable: true,
    description: 'The calling studio session, or null for API keys and anonymous callers',
    resolve: (_root, _args, ctx) => {
      const session = sessionOf(ctx);
      if (!session?.sessionCreatedAt) return null;
      const age = Date.now() - session.sessionCreatedAt.getTime();
      return { createdAt: session.sessionCreatedAt, rotationDue: age >= ctx.services.keys.sessionPolicy.rotateAfterMs };
    },
  }),
);

builder.mutationField('rotateSession', (t) =>
  t.withAuth({ anyone: true }).field({
    skipTypeScopes: true,
    type: SignedIn,
    nullable: true,
    description: 'Replaces the calling session token by a new one with the same absolute end; the old token works for a short grace. '
      + 'Null for API keys, and for a token already replaced (by a parallel request): keep using the one you have',
    resolve: async (_root, _args, ctx): Promise<TSignedIn | null> => {
      const session = sessionOf(ctx);
      if (!session) return null;
      const policy = ctx.services.keys.sessionPolicy;
      const rotated = await ctx.prisma.$transaction(async (tx) => {
        const now = new Date();
        const old = await tx.session.findUnique({ where: { tokenHash: session.sessionHash } });
        if (!old || old.rotatedAt || old.expiresAt <= now) return null;
        const graceEnd = new Date(Math.min(old.expiresAt.getTime(), now.getTime() + policy.rotationGraceMs));
        // Of parallel rotations of one token, the first takes the row lock and marks it; the others match no row once it commits.
        const { count } = await tx.session.updateMany({ where: { id: old.id, rotatedAt: null }, data: { rotatedAt: now, expiresAt: graceEnd } });
        if (count === 0) return null;
        return { ...(await openSession(tx, old.memberId, { now, expiresAt: old.expiresAt, policy })), memberId: old.memberId };
      });
      // This node may hold the old token until its cache entry ends; others hold it no longer than the grace.
      if (rotated) ctx.services.keys.forget(session.sessionHash);
      return rotated;
    },
  }),
);

const ChangePasswordInput = builder.inputType('ChangePasswordInput', {
  fields: (t) => ({ currentPassword: t.string({ required: true }), newPassword: t.string({ required: true }) }),
});

builder.mutationField('changePassword', (t) =>
  t.withAuth({ viewer: true }).field({
    skipTypeScopes: true,
    type: SignedIn,
    description: 'Changes the signed-in member\'s password. Every session of the member ends, this one included: keep the new session returned',
    errors: { types: [ValidationError, UnauthenticatedError] },
    args: { input: t.arg({ type: ChangePasswordInput, required: true }).validate(ZChangePasswordInput) },
    resolve: async (_root, { input }, ctx) => {
      const session = sessionOf(ctx);
      if (!session) throw new UnauthenticatedError('Only a member signed in to the studio has a password to change');
      const member = await ctx.prisma.member.findUnique({ where: { id: session.credentialId } });
      if (!member?.passwordHash) throw new UnauthenticatedError('Sign in again');
      // Someone holding a session must not be able to guess the password behind it, so guesses count as failed sign-ins.
      const limiter = ctx.services.signIns;
      const attempt = await limiter.attempt(member.email, ctx.clientAddress);
      if ('waitSeconds' in attempt) throw new RateLimitedError(`Too many wrong passwords; try again ${waitInWords(attempt.waitSeconds)}`, attempt.waitSeconds);
      if (!(await verifyPassword(input.currentPassword, member.passwordHash))) {
        await limiter.failed(member.email, ctx.clientAddress, attempt.tries);
        invalid('currentPassword', 'This is not your current password');
      }
      await limiter.succeeded(member.email, ctx.clientAddress);
      const passwordHash = await hashPassword(input.newPassword);
      return managementWrite(ctx, {
        notify: { type: 'keys' },
        change: async (tx) => {
          // Only over the password just checked: a reset or another change in between wins.
          const { count } = await tx.member.updateMany({
            where: { id: member.id, passwordHash: member.passwordHash },
            data: { passwordHash, resetTokenHash: null, resetExpiresAt: null },
          });
          if (count === 0) invalid('currentPassword', 'Your password was changed meanwhile; sign in again');
          await tx.session.deleteMany({ where: { memberId: member.id } });
          const signedIn = await openSession(tx, member.id, { policy: ctx.services.keys.sessionPolicy });
          return { value: { ...signedIn, memberId: member.id }, audit: { action: 'member.password', targetType: 'member', targetId: member.id } };
        },
      });
    },
  }),
);

builder.mutationField('signOutEverywhere', (t) =>
  t.withAuth({ anyone: true }).boolean({
    skipTypeScopes: true,
    description: 'Ends every session of the signed-in member, on every device; false for API keys and anonymous callers',
    resolve: async (_root, _args, ctx) => {
      const session = sessionOf(ctx);
      if (!session) return false;
      return managementWrite({ ...ctx, principal: session }, {
        notify: { type: 'keys' },
        change: async (tx) => {
          const { count } = await tx.session.deleteMany({ where: { memberId: session.credentialId } });
          return { value: true, audit: { action: 'member.signOutEverywhere', targetType: 'member', targetId: session.credentialId, data: { sessions: count } } };
        },
      });
    },
  }),
);

builder.mutationField('endMemberSessions', (t) =>
  t.withAuth({ admin: true }).prismaField({
    skipTypeScopes: true,
    type: Member,
    description: 'Ends every session of a member of the workspace (a lost device, a suspected compromise); they sign in again',
    errors: { types: WRITE_ERRORS },
    args: { memberId: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const id = String(args.memberId);
      await managementWrite(ctx, {
        notify: { type: 'keys' },
        change: async (tx, principal) => {
          const member = await findMemberOrThrow(tx, principal.workspaceId, id);
          const { count } = await tx.session.deleteMany({ where: { memberId: member.id } });
          return { value: null, audit: { action: 'member.endSessions', targetType: 'member', targetId: id, data: { email: member.email, sessions: count } } };
        },
      });
      return ctx.prisma.member.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

type TResetIssued = { memberId: string; resetToken: string; expiresAt: Date };
const PasswordResetIssued = builder.objectRef<TResetIssued>('PasswordResetIssued').implement({
  fields: (t) => ({
    resetToken: t.exposeString('resetToken', { description: 'Shown once: the member sets a new password with it' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    member: t.prismaField({ type: Member, resolve: (query, r, _a, ctx) => ctx.prisma.member.findUniqueOrThrow({ ...query, where: { id: r.memberId } }) }),
  }),
});

builder.mutationField('issuePasswordReset', (t) =>
  t.withAuth({ admin: true }).field({
    skipTypeScopes: true,
    type: PasswordResetIssued,
    description: 'A one-time link secret with which a member of the workspace sets a new password, valid for an hour; it replaces any earlier one',
    errors: { types: WRITE_ERRORS },
    args: { memberId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const reset = newResetToken();
      const expiresAt = new Date(Date.now() + RESET_TTL_MS);
      const memberId = await managementWrite(ctx, {
        change: async (tx, principal) => {
          const member = await findMemberOrThrow(tx, principal.workspaceId, String(args.memberId));
          if (!member.passwordHash) invalid('memberId', 'This member has not joined yet: their invitation link sets their first password');
          await tx.member.update({ where: { id: member.id }, data: { resetTokenHash: reset.tokenHash, resetExpiresAt: expiresAt } });
          return { value: member.id, audit: { action: 'member.resetIssued', targetType: 'member', targetId: member.id, data: { email: member.email } } };
        },
      });
      return { memberId, resetToken: reset.token, expiresAt };
    },
  }),
);

const PasswordReset = builder.objectRef<{ email: string; workspaceName: string }>('PasswordReset').implement({
  fields: (t) => ({ email: t.exposeString('email'), workspaceName: t.exposeString('workspaceName') }),
});

builder.queryField('passwordReset', (t) =>
  t.withAuth({ anyone: true }).field({
    skipTypeScopes: true,
    type: PasswordReset,
    nullable: true,
    description: 'Whom a reset link is for, or null once it was used, replaced or expired',
    args: { token: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const member = await ctx.prisma.member.findUnique({ where: { resetTokenHash: hashToken(args.token) }, include: { workspace: true } });
      if (!member?.resetExpiresAt || member.resetExpiresAt <= new Date()) return null;
      return { email: member.email, workspaceName: member.workspace.name };
    },
  }),
);

const ResetPasswordInput = builder.inputType('ResetPasswordInput', {
  fields: (t) => ({ token: t.string({ required: true }), password: t.string({ required: true }) }),
});

builder.mutationField('resetPassword', (t) =>
  t.withAuth({ anyone: true }).field({
    skipTypeScopes: true,
    type: SignedIn,
    description: 'Sets a new password with a reset link; it works once, ends every session of the member and signs them in',
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: ResetPasswordInput, required: true }).validate(ZResetPasswordInput) },
    resolve: async (_root, { input }, ctx) => {
      const passwordHash = await hashPassword(input.password);
      return auditedWrite(ctx, {
        notify: { type: 'keys' },
        change: async (tx) => {
          const tokenHash = hashToken(input.token);
          const member = await tx.member.findUnique({ where: { resetTokenHash: tokenHash } });
          if (!member?.resetExpiresAt || member.resetExpiresAt <= new Date()) throw new NotFoundError('reset', 'link');
          // As with invitations: of parallel uses of one link, the first clears the token; the others match no row once it commits.
          const { count } = await tx.member.updateMany({
            where: { id: member.id, resetTokenHash: tokenHash },
            data: { passwordHash, resetTokenHash: null, resetExpiresAt: null },
          });
          if (count === 0) throw new NotFoundError('reset', 'link');
          await tx.session.deleteMany({ where: { memberId: member.id } });
          return {
            value: { ...(await openSession(tx, member.id, { policy: ctx.services.keys.sessionPolicy })), memberId: member.id },
            by: { workspaceId: member.workspaceId, actor: member.email },
            audit: { action: 'member.reset', targetType: 'member', targetId: member.id },
          };
        },
      });
    },
  }),
);
