import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

const ONBOARDING = 'query($user: OnboardingUserInput!) { onboarding(user: $user) { flow { key } } }';
const TRACK = 'mutation($events: [TrackEventInput!]!) { track(events: $events) { accepted } }';
const ENABLE = 'mutation { enableIdentityVerification(environmentKey: "production") { ... on IdentitySecret { secret environment { identityVerification } } ... on Error { code } } }';
const sign = (secret: string, userId: string) => createHmac('sha256', secret).update(userId).digest('hex');

describe.each(DATABASE_KINDS)('client security on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  const serve = async (user: Record<string, unknown>, key = ws.publicKey, headers: Record<string, string> = {}) =>
    api.gql(key, ONBOARDING, { user }, headers);

  it('should serve unsigned user ids while identity verification is off', async () => {
    expect((await serve({ id: 'u1' })).data!.onboarding.flow.key).toBe('self-serve');
    const env = await api.gql(ws.secretKey, '{ environments { key identityVerification } }');
    expect(env.data!.environments).toContainEqual({ key: 'production', identityVerification: false });
  });

  it('should refuse unsigned and forged users once identity verification is on, and serve signed ones', async () => {
    const enabled = (await api.gql(ws.secretKey, ENABLE)).data!.enableIdentityVerification;
    expect(enabled.environment.identityVerification).toBe(true);
    const secret: string = enabled.secret;
    expect(secret).toMatch(/^dis_[A-Za-z0-9_-]{40,}$/);

    expect((await serve({ id: 'u2' })).errors![0].extensions!.code).toBe('FORBIDDEN');
    expect((await serve({ id: 'u2', hash: sign(secret, 'someone-else') })).errors![0].extensions!.code).toBe('FORBIDDEN');
    expect((await serve({ id: 'u2', hash: 'not-hex' })).errors![0].extensions!.code).toBe('FORBIDDEN');
    expect((await serve({ id: 'u2', hash: sign(secret, 'u2') })).data!.onboarding.flow.key).toBe('self-serve');

    const forged = await api.gql(ws.publicKey, TRACK, { events: [
      { id: 'e1', userId: 'u2', userHash: sign(secret, 'u2'), name: 'flow_started', flowKey: 'self-serve' },
      { id: 'e2', userId: 'victim', userHash: sign(secret, 'u2'), name: 'question_answered', flowKey: 'self-serve', questionId: 'role', value: 'developer' },
    ] });
    expect(forged.errors![0]).toMatchObject({ extensions: { code: 'FORBIDDEN', issues: [{ path: 'events.1.userHash' }] }, message: expect.stringContaining('events.1.userHash') });
    expect(await api.database.db.prisma.event.count({ where: { clientEventId: { in: ['e1', 'e2'] }, environment: { workspaceId: ws.workspaceId } } })).toBe(0);
    const signed = await api.gql(ws.publicKey, TRACK, { events: [{ id: 'e3', userId: 'u2', userHash: sign(secret, 'u2'), name: 'flow_started', flowKey: 'self-serve' }] });
    expect(signed.data!.track.accepted).toBe(1);
  });

  it('should stop accepting the old secret when it is rotated, and accept unsigned users once turned off', async () => {
    const first = (await api.gql(ws.secretKey, ENABLE)).data!.enableIdentityVerification.secret;
    const second = (await api.gql(ws.secretKey, ENABLE)).data!.enableIdentityVerification.secret;
    expect(second).not.toBe(first);
    expect((await serve({ id: 'u3', hash: sign(first, 'u3') })).errors![0].extensions!.code).toBe('FORBIDDEN');
    expect((await serve({ id: 'u3', hash: sign(second, 'u3') })).data!.onboarding).not.toBeNull();
    const off = await api.gql(ws.secretKey, 'mutation { disableIdentityVerification(environmentKey: "production") { ... on Environment { identityVerification } } }');
    expect(off.data!.disableIdentityVerification.identityVerification).toBe(false);
    expect((await serve({ id: 'u3' })).data!.onboarding).not.toBeNull();
    const audit = await api.gql(ws.secretKey, '{ auditLog(action: "environment.identity.") { edges { node { action } } } }');
    expect(audit.data!.auditLog.edges.map((e: any) => e.node.action)).toEqual([
      'environment.identity.disable', 'environment.identity.rotate', 'environment.identity.enable',
    ]);
  });

  it('should refuse a public key from an origin outside its allow list, and expose the ETag to allowed origins', async () => {
    const created = await api.gql(ws.secretKey, `mutation {
      createApiKey(input: { name: "web", kind: public, environmentKey: "production", allowedOrigins: ["https://App.Example.com"] }) {
        ... on ApiKeyCreated { secret apiKey { id allowedOrigins } } ... on Error { code message }
      } }`);
    const { secret, apiKey } = created.data!.createApiKey;
    expect(apiKey.allowedOrigins).toEqual(['https://app.example.com']);

    const foreign = await serve({ id: 'u4' }, secret, { origin: 'https://evil.example' });
    expect(foreign.errors![0]).toMatchObject({ extensions: { code: 'FORBIDDEN' }, message: expect.stringContaining('https://evil.example') });
    expect((await serve({ id: 'u4' }, secret)).data!.onboarding).not.toBeNull();

    const allowed = await api.request(secret, { query: ONBOARDING, variables: { user: { id: 'u4' } } }, { origin: 'https://app.example.com' });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    expect(allowed.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('etag');
    expect(allowed.headers.get('etag')).toMatch(/^W\//);
  });

  it('should answer a preflight without credentials, allowing If-None-Match', async () => {
    const preflight = await api.app.yoga.fetch('http://doorstep.test/graphql', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, if-none-match' },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('if-none-match');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('should validate origins and refuse them on secret keys', async () => {
    const keys = await api.gql(ws.secretKey, '{ apiKeys { id kind name } }');
    const publicKey = keys.data!.apiKeys.find((k: any) => k.kind === 'public');
    const secretKey = keys.data!.apiKeys.find((k: any) => k.kind === 'secret');
    const SET = 'mutation($id: ID!, $o: [String!]!) { setApiKeyOrigins(id: $id, allowedOrigins: $o) { __typename ... on ApiKey { allowedOrigins } ... on ValidationError { issues { path } } } }';
    expect((await api.gql(ws.secretKey, SET, { id: publicKey.id, o: ['https://a.example/path'] })).data!.setApiKeyOrigins).toEqual({ __typename: 'ValidationError', issues: [{ path: 'allowedOrigins.0' }] });
    expect((await api.gql(ws.secretKey, SET, { id: secretKey.id, o: ['https://a.example'] })).data!.setApiKeyOrigins.__typename).toBe('ValidationError');
    expect((await api.gql(ws.secretKey, SET, { id: publicKey.id, o: ['http://localhost:3001'] })).data!.setApiKeyOrigins).toEqual({ __typename: 'ApiKey', allowedOrigins: ['http://localhost:3001'] });
    const refused = await serve({ id: 'u5' }, ws.publicKey, { origin: 'https://elsewhere.example' });
    expect(refused.errors![0].extensions!.code).toBe('FORBIDDEN');
  });
});
