import { describe, expect, it } from 'vitest';
import { IDENTIFY_DOCUMENT, ONBOARDING_DOCUMENT, TRACK_DOCUMENT } from '../../sdk/src/documents.ts';
import { useListeningApi, useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

const SET = 'mutation($enabled: Boolean!) { setTrustedDocumentsOnly(environmentKey: "production", enabled: $enabled) { __typename ... on Environment { trustedDocumentsOnly } } }';
const OTHER_ONBOARDING = '{ onboarding(user: { id: "trusted-user" }) { flow { key } } }';
const EXPLAIN = '{ explainOnboarding(user: { id: "trusted-user" }) { flowKey } }';

describe.each(DATABASE_KINDS)('trusted documents only on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);
  const listening = useListeningApi(api);
  const graphqlUrl = () => `${listening.origin}/graphql`;

  const overHttp = async (query: string, variables: Record<string, unknown> = {}) => (await fetch(graphqlUrl(), {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.publicKey}` }, body: JSON.stringify({ query, variables }),
  })).json();
  const codeOf = (answer: { errors?: Array<{ extensions?: { code?: string } }> }) => answer.errors?.[0]?.extensions?.code ?? null;

  it('should answer the client\'s documents and refuse every other one from public keys while it is on', async () => {
    expect((await api.gql(ws.secretKey, SET, { enabled: true })).data.setTrustedDocumentsOnly.trustedDocumentsOnly).toBe(true);
    const user = { id: 'trusted-user' };
    for (let i = 0; i < 2; i++) expect((await overHttp(ONBOARDING_DOCUMENT, { user })).data.onboarding.flow.key).toBe('self-serve');
    expect((await api.gql(ws.publicKey, ONBOARDING_DOCUMENT, { user })).data.onboarding.flow.key).toBe('self-serve');
    const tracked = await overHttp(TRACK_DOCUMENT, { events: [{ id: 'trusted-1', userId: 'trusted-user', name: 'report_viewed' }] });
    expect(tracked.data.track.accepted).toBe(1);
    expect(codeOf(await overHttp(IDENTIFY_DOCUMENT, { guestId: 'guest_8f14e45f-ceea-467f-a8ad-0e0d3b2f0a11', userId: 'trusted-user' }))).toBeNull();
    for (const query of [OTHER_ONBOARDING, EXPLAIN]) {
      expect(codeOf(await overHttp(query))).toBe('FORBIDDEN');
      expect(codeOf(await api.gql(ws.publicKey, query))).toBe('FORBIDDEN');
    }
    // Management keys are not concerned.
    expect(codeOf(await api.gql(ws.secretKey, '{ environments { key trustedDocumentsOnly } }'))).toBeNull();
  });

  it('should accept other documents again once it is turned off, and leave other environments alone', async () => {
    await api.gql(ws.secretKey, SET, { enabled: true });
    expect(codeOf(await api.gql(ws.stagingPublicKey, OTHER_ONBOARDING))).toBeNull();
    await api.gql(ws.secretKey, SET, { enabled: false });
    expect((await overHttp(OTHER_ONBOARDING)).data.onboarding.flow.key).toBe('self-serve');
    const audit = await api.gql(ws.secretKey, '{ auditLog(first: 5) { edges { node { action } } } }');
    expect(audit.data.auditLog.edges.map((e: { node: { action: string } }) => e.node.action)).toEqual(
      expect.arrayContaining(['environment.trusted_documents.enable', 'environment.trusted_documents.disable']),
    );
  });
});
