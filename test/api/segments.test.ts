import { describe, expect, it } from 'vitest';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

const CREATE = `mutation($input: SegmentInput!) { createSegment(input: $input) {
  __typename ... on Segment { key name condition } ... on ValidationError { issues { path message } }
} }`;
const MATCHES = `query($user: SampleUserInput!, $key: String, $condition: JSON) { segmentMatches(user: $user, segmentKey: $key, condition: $condition) }`;

describe.each(DATABASE_KINDS)('segments on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  const create = (input: unknown) => api.gql(ws.secretKey, CREATE, { input });

  it('should create, read, update and delete a segment', async () => {
    expect((await create({ key: 'eu', name: 'Europe', condition: { country: { $in: ['FR', 'DE'] } } })).data!.createSegment.__typename).toBe('Segment');
    expect((await api.gql(ws.secretKey, '{ segment(key: "eu") { name condition } }')).data!.segment).toEqual({ name: 'Europe', condition: { country: { $in: ['FR', 'DE'] } } });
    const updated = await api.gql(ws.secretKey, 'mutation { updateSegment(key: "eu", input: { name: "EU" }) { ... on Segment { name condition } } }');
    expect(updated.data!.updateSegment).toEqual({ name: 'EU', condition: { country: { $in: ['FR', 'DE'] } } });
    expect((await api.gql(ws.secretKey, 'mutation { deleteSegment(key: "eu") { __typename } }')).data!.deleteSegment.__typename).toBe('Segment');
    expect((await api.gql(ws.secretKey, '{ segments { key } }')).data!.segments).toEqual([]);
  });

  it('should tell whether a sample user matches a saved segment or an unsaved condition', async () => {
    await create({ key: 'big', name: 'Big', condition: { companySize: { $gte: 200 } } });
    const check = async (vars: Record<string, unknown>) => (await api.gql(ws.secretKey, MATCHES, vars)).data!.segmentMatches;
    expect(await check({ user: { id: '1', attributes: { companySize: 500 } }, key: 'big' })).toBe(true);
    expect(await check({ user: { id: '1', attributes: { companySize: 5 } }, key: 'big' })).toBe(false);
    expect(await check({ user: { id: 'vip-7' }, condition: { id: { $regex: '^vip-' } } })).toBe(true);
  });

  it('should reject invalid conditions with the path of the problem', async () => {
    const res = await create({ key: 'bad', name: 'Bad', condition: { $and: { a: 1 }, b: { $in: 'x' }, c: { $regex: 'x'.repeat(300) } } });
    expect(res.data!.createSegment.issues.map((i: any) => i.path)).toEqual(['condition.$and', 'condition.b.$in', 'condition.c.$regex']);
  });

  it('should refuse saved-group operators, which no saved group could satisfy', async () => {
    const segment = await create({ key: 'grouped', name: 'Grouped', condition: { id: { $inGroup: 'beta-testers' } } });
    expect(segment.data!.createSegment.issues).toEqual([{ path: 'condition.id.$inGroup', message: expect.stringContaining('$in') }]);
    const flow = await api.gql(ws.secretKey, 'mutation($c: JSON) { createFlow(input: { key: "grouped", name: "G", audience: { condition: $c } }) { __typename ... on ValidationError { issues { path } } } }', {
      c: { id: { $notInGroup: 'x' } },
    });
    expect(flow.data!.createFlow).toEqual({ __typename: 'ValidationError', issues: [{ path: 'audience.condition.id.$notInGroup' }] });
  });

  it('should evaluate a catastrophic pattern in linear time instead of hanging', async () => {
    await create({ key: 'redos', name: 'ReDoS', condition: { email: { $regex: '^(a+)+$' } } });
    const res = await api.gql(ws.secretKey, MATCHES, { user: { id: '1', attributes: { email: `${'a'.repeat(5000)}!` } }, key: 'redos' });
    expect(res.data!.segmentMatches).toBe(false);
  });

  it('should refuse to delete a segment a flow targets, naming the flow', async () => {
    await create({ key: 'devs', name: 'Developers', condition: { role: 'developer' } });
    await api.gql(ws.secretKey, 'mutation { updateFlow(key: "developer-quickstart", input: { audience: { segmentKey: "devs" } }) { __typename } }');
    const res = await api.gql(ws.secretKey, 'mutation { deleteSegment(key: "devs") { __typename ... on Error { code message } } }');
    expect(res.data!.deleteSegment).toMatchObject({ __typename: 'ConflictError', message: expect.stringContaining('developer-quickstart') });
  });

  it('should serve flows by the updated segment condition at once', async () => {
    await create({ key: 'devs', name: 'Developers', condition: { role: 'developer' } });
    await api.gql(ws.secretKey, 'mutation { updateFlow(key: "developer-quickstart", input: { audience: { segmentKey: "devs" } }) { __typename } }');
    const served = async () => (await api.gql(ws.publicKey, '{ onboarding(user: { id: "s", attributes: { role: "engineer" } }) { flow { key } } }')).data!.onboarding.flow.key;
    expect(await served()).toBe('self-serve');
    const updated = await api.gql(ws.secretKey, 'mutation($c: JSON) { updateSegment(key: "devs", input: { condition: $c }) { __typename } }', {
      c: { role: { $in: ['developer', 'engineer'] } },
    });
    expect(updated.data!.updateSegment.__typename).toBe('Segment');
    expect(await served()).toBe('developer-quickstart');
  });
});
