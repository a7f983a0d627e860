import { describe, expect, it } from 'vitest';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

const WELCOME = `query($user: OnboardingUserInput!) { onboarding(user: $user) { version welcome { title } } }`;

// Which principal may call each root field is checked for every field in access-boundaries.test.ts.

describe.each(DATABASE_KINDS)('public key boundaries on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  const saveDraftTitle = async (title: string) => {
    const flow = await api.gql(ws.secretKey, '{ flow(key: "self-serve") { draft { revision content } } }');
    const { revision, content } = flow.data!.flow.draft;
    const saved = await api.gql(ws.secretKey, `mutation($c: JSON!, $r: Int!) { saveDraft(flowKey: "self-serve", revision: $r, content: $c) { __typename } }`, {
      c: { ...content, welcome: { ...content.welcome, title } }, r: revision,
    });
    expect(saved.data!.saveDraft.__typename).toBe('FlowDraft');
  };

  it('should not serve draft edits until they are published', async () => {
    await saveDraftTitle('Secret draft title');
    const res = await api.gql(ws.publicKey, WELCOME, { user: { id: 'u1' } });
    expect(res.data!.onboarding).toEqual({ version: 1, welcome: { title: 'Welcome to Lumen' } });
    expect(JSON.stringify(res)).not.toContain('Secret draft title');
  });

  it('should not serve a version published only to another environment', async () => {
    await saveDraftTitle('Staging only');
    const published = await api.gql(ws.secretKey, 'mutation { publishFlow(flowKey: "self-serve", environmentKey: "staging") { __typename } }');
    expect(published.data!.publishFlow.__typename).toBe('FlowRelease');
    const production = await api.gql(ws.publicKey, WELCOME, { user: { id: 'u2' } });
    expect(production.data!.onboarding.welcome.title).toBe('Welcome to Lumen');
    const staging = await api.gql(ws.stagingPublicKey, WELCOME, { user: { id: 'u2' } });
    expect(staging.data!.onboarding).toEqual({ version: 2, welcome: { title: 'Staging only' } });
  });

  it('should not let a public key of one workspace see another workspace', async () => {
    const other = await api.createWorkspace();
    try {
      await api.gql(other.secretKey, 'mutation { archiveFlow(key: "self-serve") { __typename } }');
      const mine = await api.gql(ws.publicKey, WELCOME, { user: { id: 'u3' } });
      expect(mine.data!.onboarding.welcome.title).toBe('Welcome to Lumen');
      const theirs = await api.gql(other.publicKey, WELCOME, { user: { id: 'u3' } });
      expect(theirs.data!.onboarding).toBeNull();
    } finally {
      await api.dropWorkspace(other);
    }
  });

  it('should refuse the runtime API without a key, with an unknown key, or with a secret key', async () => {
    for (const key of [null, 'dpk_not-a-real-key-at-all-0000000', ws.secretKey]) {
      const res = await api.gql(key, WELCOME, { user: { id: 'u4' } });
      expect(res.errors![0].extensions!.code).toBe(key === ws.secretKey ? 'FORBIDDEN' : 'UNAUTHENTICATED');
    }
  });

  it('should stop accepting a public key once it is revoked', async () => {
    const keys = await api.gql(ws.secretKey, '{ apiKeys { id kind environment { key } } }');
    const production = keys.data!.apiKeys.find((k: any) => k.kind === 'public' && k.environment.key === 'production');
    const revoked = await api.gql(ws.secretKey, `mutation($id: ID!) { revokeApiKey(id: $id) { ... on ApiKey { revokedAt } } }`, { id: production.id });
    expect(revoked.data!.revokeApiKey.revokedAt).toBeTruthy();
    const res = await api.gql(ws.publicKey, WELCOME, { user: { id: 'u5' } });
    expect(res.errors![0].extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('should not leak internals in errors', async () => {
    const res = await api.gql(ws.publicKey, '{ onboarding(user: { id: "u6" }) { nope } }');
    expect(res.errors![0].message).toMatch(/Cannot query field "nope"/);
    expect(JSON.stringify(res)).not.toMatch(/prisma|stack|\/work\//i);
  });

  it('should refuse a request that calls more than one runtime field, so aliases cannot multiply its bounds', async () => {
    const aliased = await api.gql(ws.publicKey, '{ a: onboarding(user: { id: "x1" }) { version } b: onboarding(user: { id: "x2" }) { version } }');
    expect(aliased.errors![0]).toMatchObject({ extensions: { code: 'VALIDATION' }, message: expect.stringContaining('one runtime field per request') });
    expect(aliased.data ?? null).toBeNull();
    const events = (prefix: string) => Array.from({ length: 100 }, (_, i) => `{ id: "${prefix}-${i}", userId: "alias-user", name: "page_viewed" }`).join(' ');
    const fragments = await api.gql(ws.publicKey, `mutation { ...One ...Two } fragment One on Mutation { track(events: [${events('a')}]) { accepted } } fragment Two on Mutation { again: track(events: [${events('b')}]) { accepted } }`);
    expect(fragments.errors![0].extensions!.code).toBe('VALIDATION');
    expect(await api.database.db.prisma.event.count({ where: { userId: 'alias-user', environment: { workspaceId: ws.workspaceId } } })).toBe(0);
    const single = await api.gql(ws.publicKey, '{ __typename onboarding(user: { id: "x3" }) { version } }');
    expect(single.data!.onboarding.version).toBe(1);
  });
});
