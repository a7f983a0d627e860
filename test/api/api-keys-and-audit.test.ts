import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../../api/src/auth/api-keys.ts';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';
import { createSecretKey } from '../support/keys.ts';

const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
  __typename ... on ApiKeyCreated { secret apiKey { id name kind role prefix environment { key } } } ... on ValidationError { issues { path message } } ... on Error { code }
} }`;

describe.each(DATABASE_KINDS)('API keys and audit log on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  it('should show a new key once and store only its hash', async () => {
    const res = await api.gql(ws.secretKey, CREATE_KEY, { input: { name: 'Web app', kind: 'public', environmentKey: 'staging' } });
    const { secret, apiKey } = res.data!.createApiKey;
    expect(secret).toMatch(/^dpk_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({ name: 'Web app', kind: 'public', role: null, environment: { key: 'staging' }, prefix: secret.slice(0, 10) });
    const stored = await api.database.db.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } });
    expect(stored.secretHash).toBe(hashApiKey(secret));
    expect(JSON.stringify(stored)).not.toContain(secret);
    const listed = await api.gql(ws.secretKey, '{ apiKeys { id prefix } }');
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect(listed.data!.apiKeys.some((k: any) => k.id === apiKey.id)).toBe(true);
  });

  it('should require an environment for public keys and a role for secret keys', async () => {
    const publicKey = await api.gql(ws.secretKey, CREATE_KEY, { input: { name: 'x', kind: 'public' } });
    expect(publicKey.data!.createApiKey.issues[0].path).toBe('environmentKey');
    const secretKey = await api.gql(ws.secretKey, CREATE_KEY, { input: { name: 'x', kind: 'secret' } });
    expect(secretKey.data!.createApiKey.issues[0].path).toBe('role');
  });

  it('should let only admins manage keys, and no key revoke itself', async () => {
    const publisher = await createSecretKey(api, ws.secretKey, 'publisher');
    expect((await api.gql(publisher, CREATE_KEY, { input: { name: 'x', kind: 'secret', role: 'admin' } })).data!.createApiKey.__typename).toBe('ForbiddenError');
    expect((await api.gql(publisher, '{ apiKeys { id } }')).errors![0].extensions!.code).toBe('FORBIDDEN');
    const own = await api.database.db.prisma.apiKey.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, name: 'Demo admin' } });
    const res = await api.gql(ws.secretKey, `mutation($id: ID!) { revokeApiKey(id: $id) { __typename ... on ValidationError { issues { message } } } }`, { id: own.id });
    expect(res.data!.revokeApiKey.__typename).toBe('ValidationError');
  });

  it('should stop a revoked secret key at once', async () => {
    const editor = await createSecretKey(api, ws.secretKey, 'editor');
    expect((await api.gql(editor, '{ flows { key } }')).data!.flows).toHaveLength(4);
    const { id } = await api.database.db.prisma.apiKey.findFirstOrThrow({ where: { workspaceId: ws.workspaceId, name: 'editor key' } });
    await api.gql(ws.secretKey, `mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }`, { id });
    expect((await api.gql(editor, '{ flows { key } }')).errors![0].extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('should not find keys of another workspace', async () => {
    const other = await api.createWorkspace();
    try {
      const theirs = await api.database.db.prisma.apiKey.findFirstOrThrow({ where: { workspaceId: other.workspaceId } });
      const res = await api.gql(ws.secretKey, `mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }`, { id: theirs.id });
      expect(res.data!.revokeApiKey.__typename).toBe('NotFoundError');
    } finally {
      await api.dropWorkspace(other);
    }
  });

  it('should record every change in the audit log, newest first, filterable by action', async () => {
    await api.gql(ws.secretKey, 'mutation { createFlow(input: { key: "audited", name: "Audited" }) { __typename } }');
    await api.gql(ws.secretKey, 'mutation { publishFlow(flowKey: "audited", environmentKey: "staging") { __typename } }');
    const all = await api.gql(ws.secretKey, '{ auditLog(first: 10) { edges { node { action actor targetType createdAt } } } }');
    const entries = all.data!.auditLog.edges.map((e: any) => e.node);
    expect(entries.slice(0, 2).map((e: any) => e.action)).toEqual(['flow.publish', 'flow.create']);
    expect(entries[0].actor).toBe('key:Demo admin');
    const flowsOnly = await api.gql(ws.secretKey, '{ auditLog(action: "flow.") { edges { node { action } } } }');
    expect(new Set(flowsOnly.data!.auditLog.edges.map((e: any) => e.node.action))).toEqual(new Set(['flow.publish', 'flow.create']));
  });

  it('should page through entries that share a timestamp without skipping or repeating any', async () => {
    const createdAt = new Date('2026-01-02T03:04:05.678Z');
    await api.database.db.prisma.auditEntry.createMany({
      data: Array.from({ length: 7 }, (_, i) => ({ workspaceId: ws.workspaceId, actor: 't', action: 'test.same-instant', targetType: 'test', targetId: `t${i}`, createdAt })),
    });
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res: any = await api.gql(ws.secretKey, 'query($after: String) { auditLog(first: 3, after: $after, action: "test.") { edges { node { targetId } } pageInfo { hasNextPage endCursor } } }', { after });
      seen.push(...res.data.auditLog.edges.map((e: any) => e.node.targetId));
      if (!res.data.auditLog.pageInfo.hasNextPage) break;
      after = res.data.auditLog.pageInfo.endCursor;
    }
    expect(seen.sort()).toEqual(['t0', 't1', 't2', 't3', 't4', 't5', 't6']);
  });

  it('should refuse a page larger than 200 entries', async () => {
    const res = await api.gql(ws.secretKey, '{ auditLog(first: 201) { edges { node { action } } } }');
    expect(res.errors![0].extensions).toMatchObject({ code: 'VALIDATION', issues: [{ path: 'first', message: 'Pages hold at most 200 entries' }] });
  });
});
