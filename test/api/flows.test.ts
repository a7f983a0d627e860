import { describe, expect, it } from 'vitest';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';
import { createSecretKey } from '../support/keys.ts';

const CREATE = `mutation($input: CreateFlowInput!) { createFlow(input: $input) {
  __typename
  ... on Flow { key name priority audienceCondition segment { key } draft { revision content } }
  ... on ValidationError { issues { path message } }
  ... on Error { code message }
} }`;
const UPDATE = `mutation($key: String!, $input: UpdateFlowInput!) { updateFlow(key: $key, input: $input) {
  __typename ... on Flow { key name priority audienceCondition segment { key } } ... on Error { code message } ... on ValidationError { issues { path message } }
} }`;

describe.each(DATABASE_KINDS)('flows on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  it('should create a flow with a valid starter draft at revision 1', async () => {
    const res = await api.gql(ws.secretKey, CREATE, { input: { key: 'trial-users', name: 'Trial users', priority: 5, audience: { condition: { plan: 'trial' } } } });
    const flow = res.data!.createFlow;
    expect(flow).toMatchObject({ __typename: 'Flow', key: 'trial-users', name: 'Trial users', priority: 5, audienceCondition: { plan: 'trial' }, segment: null });
    expect(flow.draft.revision).toBe(1);
    expect(flow.draft.content.steps).toHaveLength(1);
  });

  it('should answer concurrent creates of one key with one flow and typed duplicate errors', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => api.gql(ws.secretKey, CREATE, { input: { key: 'same-key', name: `Same ${i}` } })));
    expect(results.every((r) => r.errors === undefined)).toBe(true);
    const outcomes = results.map((r) => r.data!.createFlow);
    expect(outcomes.filter((o) => o.__typename === 'Flow')).toHaveLength(1);
    for (const refused of outcomes.filter((o) => o.__typename !== 'Flow')) {
      expect(refused).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', issues: [{ path: 'key', message: 'A flow "same-key" already exists' }] });
    }
  });

  it('should list flows by priority and leave archived ones out unless asked', async () => {
    await api.gql(ws.secretKey, 'mutation { archiveFlow(key: "developer-quickstart") { __typename } }');
    const active = await api.gql(ws.secretKey, '{ flows { key } }');
    expect(active.data!.flows.map((f: any) => f.key)).toEqual(['sales-assisted', 'self-serve', 'whats-new-sharing']);
    const all = await api.gql(ws.secretKey, '{ flows(includeArchived: true) { key archivedAt } }');
    expect(all.data!.flows).toHaveLength(4);
  });

  it('should reject a duplicate key and invalid fields with their paths', async () => {
    const duplicate = await api.gql(ws.secretKey, CREATE, { input: { key: 'self-serve', name: 'Again' } });
    expect(duplicate.data!.createFlow).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION', issues: [{ path: 'key' }] });
    const invalid = await api.gql(ws.secretKey, CREATE, { input: { key: 'Not A Slug', name: '', priority: 5000 } });
    expect(invalid.data!.createFlow.issues.map((i: any) => i.path).sort()).toEqual(['key', 'name', 'priority']);
  });

  it('should reject an audience with both a segment and a condition, or an unknown segment', async () => {
    const both = await api.gql(ws.secretKey, CREATE, { input: { key: 'x', name: 'X', audience: { segmentKey: 'a', condition: { a: 1 } } } });
    expect(both.data!.createFlow.issues[0].path).toBe('audience.segmentKey');
    const unknown = await api.gql(ws.secretKey, CREATE, { input: { key: 'x', name: 'X', audience: { segmentKey: 'nope' } } });
    expect(unknown.data!.createFlow.issues[0]).toMatchObject({ path: 'audience.segmentKey', message: expect.stringContaining('nope') });
  });

  it('should leave nothing behind when a create fails', async () => {
    await api.gql(ws.secretKey, CREATE, { input: { key: 'left-behind', name: 'X', audience: { segmentKey: 'nope' } } });
    const prisma = api.database.db.prisma;
    expect(await prisma.flow.count({ where: { workspaceId: ws.workspaceId, key: 'left-behind' } })).toBe(0);
    expect(await prisma.auditEntry.count({ where: { workspaceId: ws.workspaceId, action: 'flow.create' } })).toBe(0);
  });

  it('should reject an inline condition with an unknown operator or a pattern RE2 cannot run', async () => {
    const res = await api.gql(ws.secretKey, CREATE, { input: { key: 'x', name: 'X', audience: { condition: { a: { $regx: 'b' }, c: { $regex: '(?=look)ahead' } } } } });
    expect(res.data!.createFlow.issues.map((i: any) => i.path)).toEqual(['audience.condition.a.$regx', 'audience.condition.c.$regex']);
  });

  it('should rename, reprioritise and retarget a flow, and serve the new audience at once', async () => {
    const segment = await api.gql(ws.secretKey, 'mutation { createSegment(input: { key: "mobile", name: "Mobile", condition: { device: "mobile" } }) { __typename } }');
    expect(segment.data!.createSegment.__typename).toBe('Segment');
    const res = await api.gql(ws.secretKey, UPDATE, { key: 'developer-quickstart', input: { name: 'Mobile quickstart', priority: 50, audience: { segmentKey: 'mobile' } } });
    expect(res.data!.updateFlow).toMatchObject({ name: 'Mobile quickstart', priority: 50, segment: { key: 'mobile' }, audienceCondition: null });
    const served = await api.gql(ws.publicKey, '{ onboarding(user: { id: "m", attributes: { device: "mobile", companySize: 900 } }) { flow { key name } } }');
    expect(served.data!.onboarding.flow).toEqual({ key: 'developer-quickstart', name: 'Mobile quickstart' });
  });

  it('should stop serving an archived flow and serve it again once restored', async () => {
    const query = '{ onboarding(user: { id: "z", attributes: { role: "developer" } }) { flow { key } } }';
    await api.gql(ws.secretKey, 'mutation { archiveFlow(key: "developer-quickstart") { __typename } }');
    expect((await api.gql(ws.publicKey, query)).data!.onboarding.flow.key).toBe('self-serve');
    await api.gql(ws.secretKey, 'mutation { restoreFlow(key: "developer-quickstart") { __typename } }');
    expect((await api.gql(ws.publicKey, query)).data!.onboarding.flow.key).toBe('developer-quickstart');
  });

  it('should answer NOT_FOUND for a flow that does not exist', async () => {
    const res = await api.gql(ws.secretKey, UPDATE, { key: 'ghost', input: { name: 'Boo' } });
    expect(res.data!.updateFlow).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
  });

  it('should let a viewer read flows but not create them', async () => {
    const viewer = await createSecretKey(api, ws.secretKey, 'viewer');
    expect((await api.gql(viewer, '{ flows { key } }')).data!.flows).toHaveLength(4);
    const res = await api.gql(viewer, CREATE, { input: { key: 'x', name: 'X' } });
    expect(res.data!.createFlow).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
  });
});
