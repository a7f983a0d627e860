import { ZAcceptInviteInput, ZInviteInput, ZRole, ZSetupInput, ZSignInInput } from '@doorstep/schema';
import { builder } from '../builder.ts';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../auth/passwords.ts';
import { hashToken, newInviteToken, openSession } from '../auth/sessions.ts';
import { ForbiddenError, NotFoundError, RateLimitedError, UnauthenticatedError, ValidationError, invalid, waitInWords } from '../errors.ts';
import { isUuid } from '../domain/ids.ts';
import { auditedWrite, managementWrite } from '../domain/management-write.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { Role } from './api-keys.ts';
import { WRITE_ERRORS } from './errors.ts';

const INVITE_TTL_MS = 7 * 24 * 3600 * 1000;
const SETUP_LOCK_ID = 727_073_691;
/**
 * The memberships of one email that a sign-in tries, most recent first. Every attempt pays this many
 * password checks, real or not, so that the time taken does not tell how many workspaces, if any,
 * know the email; a bound keeps a sign-in's cost (scrypt, 16 MiB each) small.
 */
export const MEMBERSHIPS_TRIED = 3;

export const Member = builder.prismaObject('Member', {
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    name: t.exposeString('name'),
    role: t.expose('role', { type: Role }),
    invitePending: t.boolean({ resolve: (m) => m.passwordHash === null }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    workspace: t.relation('workspace'),
  }),
});

export type TSignedIn = { token: string; expiresAt: Date; memberId: string };
export const SignedIn = builder.objectRef<TSignedIn>('SignedIn').implement({
  description: 'A new studio session; keep the token in an httpOnly cookie',
  fields: (t) => ({
    token: t.exposeString('token'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    member: t.prismaField({ type: Member, resolve: (query, s, _a, ctx) => ctx.prisma.member.findUniqueOrThrow({ ...query, where: { id: s.memberId } }) }),
  }),
});

type TInvited = { memberId: string; inviteToken: string };
const Invited = builder.objectRef<TInvited>('Invited').implement({
  fields: (t) => ({
    inviteToken: t.exposeString('inviteToken', { description: 'Shown once: the invitee accepts with it' }),
    member: t.prismaField({ type: Member, resolve: (query, i, _a, ctx) => ctx.prisma.member.findUniqueOrThrow({ ...query, where: { id: i.memberId } }) }),
  }),
});

const Invitation = builder.objectRef<{ email: string; workspaceName: string; role: string }>('Invitation').implement({
  fields: (t) => ({ email: t.exposeString('email'), workspaceName: t.exposeString('workspaceName'), role: t.exposeString('role') }),
});

builder.queryField('setupRequired', (t) =>
  t.withAuth({ anyone: true }).boolean({
    skipTypeScopes: true,
    description: 'True until the first member exists; the studio then offers to create the first admin',
    resolve: async (_root, _args, ctx) => (await ctx.prisma.member.count()) === 0,
  }),
);

builder.queryField('me', (t) =>
  t.withAuth({ anyone: true }).prismaField({
    skipTypeScopes: true,
    type: Member,
    nullable: true,
    description: 'The signed-in member, or null for API keys and anonymous callers',
    resolve: (query, _root, _args, ctx) =>
      ctx.principal?.kind === 'member' ? ctx.prisma.member.findUnique({ ...query, where: { id: ctx.principal.credentialId } }) : null,
  }),
);

builder.queryField('members', (t) =>
  t.withAuth({ viewer: true }).prismaField({
    skipTypeScopes: true,
    type: [Member],
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.member.findMany({ ...query, where: { workspaceId: ctx.principal.workspaceId }, orderBy: { createdAt: 'asc' } }),
  }),
);

builder.queryField('invitation', (t) =>
  t.withAuth({ anyone: true }).field({
    skipTypeScopes: true,
    type: Invitation,
    nullable: true,
    args: { token: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const member = await ctx.prisma.member.findUnique({ where: { inviteTokenHash: hashToken(args.token) }, include: { workspace: true } });
      if (!member || !member.inviteExpiresAt || member.inviteExpiresAt < new Date()) return null;
      return { email: member.email, workspaceName: member.workspace.name, role: member.role };
    },
  }),
);

const SetupInput = builder.inputType('SetupInput', {
  fields: (t) => ({ email: t.string({ required: true }), name: t.string({ required: true }), password: t.string({ required: true }) }),
});

builder.mutationField('setupFirstAdmin', (t) =>
  t.withAuth({ anyone: true }).field({
    skipTypeScopes: true,
    type: SignedIn,
    description: 'Creates the first admin of the (first) workspace; refused once any member exists',
    errors: { types: [ValidationError, ForbiddenError] },
    args: { input: t.arg({ type: SetupInput, required: true }).validate(ZSetupInput) },
    resolve: async (_root, { input }, ctx) => {
      const passwordHash = await hashPassword(input.password);
      return auditedWrite(ctx, {
        change: async (tx) => {
          // Two first visits at once: the advisory lock lets one through; the other sees a member.
          if (ctx.services.db.driver === 'postgres') await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SETUP_LOCK_ID})`;
          if ((await tx.member.count()) > 0) throw new ForbiddenError('The studio is already set up; sign in instead');
          const workspace = (await tx.workspace.findFirst({ orderBy: { createdAt: 'asc' } }))
            ?? (await tx.workspace.create({ data: { slug: 'main', name: 'My workspace', environments: { create: [{ key: 'production', name: 'Production' }, { key: 'staging', name: 'Staging' }] } } }));
          const member = await tx.member.create({ data: { workspaceId: workspace.id, email: input.email, name: input.name, role: 'admin', passwordHash } });
          return {
            value: { ...(await openSession(tx, member.id)), memberId: member.id },
            by: { workspaceId: workspace.id, actor: input.email },
            audit: { action: 'member.setup', targetType: 'member', targetId: member.id },
          };
        },
      });
    },
  }),
);

builder.mutationField('signIn', (t) =>
  t.withAuth({ anyone: true }).field({
    skipTypeScopes: true,
    type: SignedIn,
    description: 'Wrong passwords slow further tries of the account from the same address: the error RATE_LIMITED (HTTP 429, Retry-After) says how long',
    errors: { types: [ValidationError, UnauthenticatedError] },
    args: t.validate({ email: t.arg.string({ required: true }), password: t.arg.string({ required: true }) }, ZSignInInput),
    resolve: async (_root, input, ctx) => {
      const limiter = ctx.services.signIns;
      const attempt = await limiter.attempt(input.email, ctx.clientAddress);
      if ('waitSeconds' in attempt) throw new RateLimitedError(`Too many wrong passwords; try again ${waitInWords(attempt.waitSeconds)}`, attempt.waitSeconds);
      const member = await memberWithPassword(ctx.prisma, input.email, input.password);
      if (!member) {
        await limiter.failed(input.email, ctx.clientAddress, attempt.tries);
        throw new UnauthenticatedError('Wrong email or password');
      }
      await limiter.succeeded(input.email, ctx.clientAddress);
      return { ...(await openSession(ctx.prisma, member.id, { policy: ctx.services.keys.sessionPolicy })), memberId: member.id };
    },
  }),
);

/**
 * The member of one of the email's workspaces whose password this is. An email may belong to several
 * workspaces, each with its own password; the same password in two of them reaches the most recent.
 */
async function memberWithPassword(prisma: Prisma.TransactionClient, email: string, password: string) {
  const members = await prisma.member.findMany({ where: { email, passwordHash: { not: null } }, orderBy: { createdAt: 'desc' }, take: MEMBERSHIPS_TRIED });
  const hashes = Array.from({ length: MEMBERSHIPS_TRIED }, (_, i) => members[i]?.passwordHash ?? DUMMY_PASSWORD_HASH);
  const valid = await Promise.all(hashes.map((hash) => verifyPassword(password, hash)));
  return members.find((_, i) => valid[i]) ?? null;
}

builder.mutationField('signOut', (t) =>
  t.withAuth({ anyone: true }).boolean({
    skipTypeScopes: true,
    description: 'Ends the calling session',
    resolve: async (_root, _args, ctx) => {
      const principal = ctx.principal;
      if (principal?.kind !== 'member' || !principal.sessionHash) return false;
      await ctx.prisma.session.deleteMany({ where: { tokenHash: principal.sessionHash } });
      await ctx.services.bus.publish({ type: 'keys' });
      return true;
    },
  }),
);

const InviteInput = builder.inputType('InviteMemberInput', {
  fields: (t) => ({ email: t.string({ required: true }), role: t.field({ type: Role, required: true }) }),
});

builder.mutationField('inviteMember', (t) =>
  t.withAuth({ admin: true }).field({
    skipTypeScopes: true,
    type: Invited,
    errors: { types: WRITE_ERRORS },
    args: { input: t.arg({ type: InviteInput, required: true }).validate(ZInviteInput) },
    resolve: async (_root, { input }, ctx) => {
      const invite = newInviteToken();
      const memberId = await managementWrite(ctx, {
        onDuplicate: () => new ValidationError([{ path: 'email', message: 'This email already belongs to a member of this workspace' }]),
        change: async (tx, principal) => {
          const member = await tx.member.create({
            data: { workspaceId: principal.workspaceId, email: input.email, name: input.email.split('@')[0], role: input.role, inviteTokenHash: invite.tokenHash, inviteExpiresAt: new Date(Date.now() + INVITE_TTL_MS) },
          });
          return { value: member.id, audit: { action: 'member.invite', targetType: 'member', targetId: member.id, data: { email: input.email, role: input.role } } };
        },
      });
      return { memberId, inviteToken: invite.token };
    },
  }),
);

const AcceptInput = builder.inputType('AcceptInvitationInput', {
  fields: (t) => ({ token: t.string({ required: true }), name: t.string({ required: true }), password: t.string({ required: true }) }),
});

builder.mutationField('acceptInvitation', (t) =>
  t.withAuth({ anyone: true }).field({
    skipTypeScopes: true,
    type: SignedIn,
    errors: { types: [ValidationError, NotFoundError] },
    args: { input: t.arg({ type: AcceptInput, required: true }).validate(ZAcceptInviteInput) },
    resolve: async (_root, { input }, ctx) => {
      const passwordHash = await hashPassword(input.password);
      return auditedWrite(ctx, {
        change: async (tx) => {
          const tokenHash = hashToken(input.token);
          const member = await tx.member.findUnique({ where: { inviteTokenHash: tokenHash } });
          if (!member || !member.inviteExpiresAt || member.inviteExpiresAt < new Date()) throw new NotFoundError('invitation', 'link');
          // Claimed only while the token is still on the row: of parallel uses of one link, the first
          // takes the row lock and clears the token; the others match no row once it commits.
          const { count } = await tx.member.updateMany({
            where: { id: member.id, inviteTokenHash: tokenHash },
            data: { name: input.name, passwordHash, inviteTokenHash: null, inviteExpiresAt: null },
          });
          if (count === 0) throw new NotFoundError('invitation', 'link');
          return {
            value: { ...(await openSession(tx, member.id, { policy: ctx.services.keys.sessionPolicy })), memberId: member.id },
            by: { workspaceId: member.workspaceId, actor: member.email },
            audit: { action: 'member.join', targetType: 'member', targetId: member.id },
          };
        },
      });
    },
  }),
);

/**
 * Serialises the changes that can take an admin away (demotion, removal) within one workspace. Each
 * checks that another admin remains; without the lock, two admins demoting each other both see the
 * other still admin and both commit. The lock is on the workspace row, in every API node's database,
 * and NO KEY UPDATE so that inserts referencing the workspace (events, audit entries) never wait on it.
 * Read committed: the count after the lock sees what the transaction before it committed.
 */
async function lockAdminChanges(tx: Prisma.TransactionClient, workspaceId: string) {
  await tx.$queryRaw`SELECT id FROM "Workspace" WHERE id = ${workspaceId}::uuid FOR NO KEY UPDATE`;
}

async function ensureAnotherAdmin(tx: Prisma.TransactionClient, workspaceId: string, memberId: string) {
  const admins = await tx.member.count({ where: { workspaceId, role: 'admin', id: { not: memberId }, passwordHash: { not: null } } });
  if (admins === 0) invalid('role', 'A workspace needs at least one admin; promote someone else first');
}

builder.mutationField('changeMemberRole', (t) =>
  t.withAuth({ admin: true }).prismaField({
    skipTypeScopes: true,
    type: Member,
    errors: { types: WRITE_ERRORS },
    args: { memberId: t.arg.id({ required: true }), role: t.arg({ type: Role, required: true }).validate(ZRole) },
    resolve: async (query, _root, args, ctx) => {
      const id = String(args.memberId);
      await managementWrite(ctx, {
        notify: { type: 'keys' },
        change: async (tx, principal) => {
          await lockAdminChanges(tx, principal.workspaceId);
          const member = await findMemberOrThrow(tx, principal.workspaceId, id);
          if (member.role === 'admin' && args.role !== 'admin') await ensureAnotherAdmin(tx, principal.workspaceId, member.id);
          await tx.member.update({ where: { id }, data: { role: args.role } });
          return { value: id, audit: { action: 'member.role', targetType: 'member', targetId: id, data: { email: member.email, from: member.role, to: args.role } } };
        },
      });
      return ctx.prisma.member.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

builder.mutationField('removeMember', (t) =>
  t.withAuth({ admin: true }).prismaField({
    skipTypeScopes: true,
    type: Member,
    errors: { types: WRITE_ERRORS },
    args: { memberId: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const id = String(args.memberId);
      if (id === ctx.principal.credentialId) invalid('memberId', 'You cannot remove yourself');
      return managementWrite(ctx, {
        notify: { type: 'keys' },
        change: async (tx, principal) => {
          await lockAdminChanges(tx, principal.workspaceId);
          const member = await findMemberOrThrow(tx, principal.workspaceId, id);
          if (member.role === 'admin') await ensureAnotherAdmin(tx, principal.workspaceId, member.id);
          const deleted = await tx.member.delete({ ...query, where: { id } });
          return { value: deleted, audit: { action: 'member.remove', targetType: 'member', targetId: id, data: { email: member.email } } };
        },
      });
    },
  }),
);

export async function findMemberOrThrow(tx: Prisma.TransactionClient, workspaceId: string, id: string) {
  const member = isUuid(id) ? await tx.member.findFirst({ where: { id, workspaceId } }) : null;
  if (!member) throw new NotFoundError('member', id);
  return member;
}
