import { describe, expect, it } from 'vitest';
import type { TSeedResult } from '../../api/src/seed.ts';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { ACCEPT, INVITE, invitedMember, MEMBER_PASSWORD, uniqueEmail } from '../support/members.ts';

/**
 * Races between API requests, on PostgreSQL: PGlite runs one statement at a time, so only a server
 * with real concurrent transactions can show that the database, not luck, keeps the invariant.
 * Every race is run several rounds, each on fresh data; a round that breaks the invariant is named.
 */
const ROUNDS = 10;
/**
 * What the later of two admins acting on each other gets: the admin check's refusal, or, when its
 * credentials were read after the other's change committed, the refusal of a demoted or removed member.
 */
const LOSER = /^(ValidationError|ForbiddenError|UNAUTHENTICATED)$/;

describe('concurrent writes on postgres', () => {
  const api = useTestApi('postgres');

  /** A workspace of its own for one round, so that its only admins are the ones the round makes. */
  async function inFreshWorkspace<T>(round: (ws: TSeedResult) => Promise<T>): Promise<T> {
    const ws = await api.createWorkspace();
    try {
      return await round(ws);
    } finally {
      await api.dropWorkspace(ws);
    }
  }
  const adminCount = (ws: TSeedResult) => api.database.db.prisma.member.count({ where: { workspaceId: ws.workspaceId, role: 'admin' } });

  it('should keep an admin when two admins demote each other at once', async () => {
    const broken: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await inFreshWorkspace(async (ws) => {
        const [a, b] = [await invitedMember(api, ws.secretKey, 'admin'), await invitedMember(api, ws.secretKey, 'admin')];
        const demote = (token: string, id: string) =>
          api.gql(token, 'mutation($id: ID!) { changeMemberRole(memberId: $id, role: editor) { __typename } }', { id });
        const results = await Promise.all([demote(a.token, b.id), demote(b.token, a.id)]);
        const outcomes = results.map((r) => r.data?.changeMemberRole.__typename ?? r.errors?.[0].extensions?.code);
        if ((await adminCount(ws)) === 0) broken.push(`round ${round}: no admin left (${outcomes.join(', ')})`);
        else expect(outcomes.filter((o) => o !== 'Member')).toEqual([expect.stringMatching(LOSER)]);
      });
    }
    expect(broken).toEqual([]);
  });

  it('should keep an admin when two admins remove each other at once', async () => {
    const broken: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await inFreshWorkspace(async (ws) => {
        const [a, b] = [await invitedMember(api, ws.secretKey, 'admin'), await invitedMember(api, ws.secretKey, 'admin')];
        const remove = (token: string, id: string) =>
          api.gql(token, 'mutation($id: ID!) { removeMember(memberId: $id) { __typename } }', { id });
        const results = await Promise.all([remove(a.token, b.id), remove(b.token, a.id)]);
        const outcomes = results.map((r) => r.data?.removeMember.__typename ?? r.errors?.[0].extensions?.code);
        if ((await adminCount(ws)) === 0) broken.push(`round ${round}: no admin left (${outcomes.join(', ')})`);
        else expect(outcomes.filter((o) => o !== 'Member')).toEqual([expect.stringMatching(LOSER)]);
      });
    }
    expect(broken).toEqual([]);
  });

  it('should accept an invitation link once when parallel requests use it', async () => {
    const broken: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await inFreshWorkspace(async (ws) => {
        const invited = (await api.gql(ws.secretKey, INVITE, { input: { email: uniqueEmail('race'), role: 'editor' } })).data!.inviteMember;
        const accept = (name: string) => api.gql(null, ACCEPT, { input: { token: invited.inviteToken, name, password: MEMBER_PASSWORD } });
        const results = await Promise.all(['Ann', 'Bob', 'Cy', 'Di', 'Ed'].map(accept));
        const accepted = results.filter((r) => r.data?.acceptInvitation.__typename === 'SignedIn');
        const refused = results.filter((r) => r.data?.acceptInvitation.code === 'NOT_FOUND');
        const sessions = await api.database.db.prisma.session.count({ where: { memberId: invited.member.id } });
        if (accepted.length !== 1 || sessions !== 1) broken.push(`round ${round}: accepted ${accepted.length} times, ${sessions} sessions`);
        expect(refused.length + accepted.length).toBe(results.length);
      });
    }
    expect(broken).toEqual([]);
  });

  describe('references', () => {
    const ws = useTestWorkspace(api);

    it('should answer with a typed error when a segment is deleted while a new flow targets it', async () => {
      const broken: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const key = `race-${round}-${Date.now()}`;
        await api.gql(ws.secretKey, 'mutation($i: SegmentInput!) { createSegment(input: $i) { __typename } }', { i: { key, name: key, condition: { plan: 'pro' } } });
        const [deleted, created] = await Promise.all([
          api.gql(ws.secretKey, 'mutation($k: String!) { r: deleteSegment(key: $k) { __typename } }', { k: key }),
          api.gql(ws.secretKey, 'mutation($i: CreateFlowInput!) { r: createFlow(input: $i) { __typename } }', { i: { key, name: key, audience: { segmentKey: key } } }),
        ]);
        const outcome = [deleted, created].map((r) => r.data?.r.__typename ?? r.errors?.[0].message).join(', ');
        // Either the delete went first and the flow's segment is gone, or the flow went first and the delete sees it.
        if (outcome !== 'Segment, ValidationError' && outcome !== 'ConflictError, Flow') broken.push(`round ${round}: ${outcome}`);
      }
      expect(broken).toEqual([]);
    });
  });

  describe('duplicate keys', () => {
    const ws = useTestWorkspace(api);
    /** What is created, the mutation (aliased `r`), its input for a key, and the field a duplicate is reported at. */
    const creates: Array<[string, string, (key: string) => Record<string, unknown>, string]> = [
      ['flow', 'mutation($i: CreateFlowInput!) { r: createFlow(input: $i) { __typename ... on ValidationError { issues { path } } } }', (key) => ({ key, name: key }), 'key'],
      ['segment', 'mutation($i: SegmentInput!) { r: createSegment(input: $i) { __typename ... on ValidationError { issues { path } } } }', (key) => ({ key, name: key, condition: { plan: 'pro' } }), 'key'],
      ['environment', 'mutation($i: CreateEnvironmentInput!) { r: createEnvironment(input: $i) { __typename ... on ValidationError { issues { path } } } }', (key) => ({ key, name: key }), 'key'],
      ['invitation', 'mutation($i: InviteMemberInput!) { r: inviteMember(input: $i) { __typename ... on ValidationError { issues { path } } } }', (key) => ({ email: `${key}@example.com`, role: 'viewer' }), 'email'],
    ];

    it.each(creates)('should create one %s and refuse the others with a typed error when creates of one key race', async (_kind, mutation, input, path) => {
      const broken: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const key = `race-${round}-${Date.now()}`;
        const results = await Promise.all(Array.from({ length: 4 }, () => api.gql(ws.secretKey, mutation, { i: input(key) })));
        const outcomes = results.map((r) => r.data?.r?.__typename ?? r.errors?.[0].message);
        const created = outcomes.filter((o) => o !== 'ValidationError');
        if (created.length !== 1) broken.push(`round ${round}: ${outcomes.join(', ')}`);
        const refusals = results.filter((r) => r.data?.r?.__typename === 'ValidationError');
        for (const refusal of refusals) expect(refusal.data!.r.issues.map((i: { path: string }) => i.path)).toEqual([path]);
      }
      expect(broken).toEqual([]);
    });
  });
});
