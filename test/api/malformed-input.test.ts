import { describe, expect, it } from 'vitest';
import { MAX_NESTING } from '../../api/src/input-limits-plugin.ts';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

const SAVE_DRAFT = `mutation($c: JSON!, $r: Int!) { saveDraft(flowKey: "self-serve", revision: $r, content: $c) {
  __typename ... on ValidationError { issues { path message } }
} }`;

/** Bad input is refused with a clear error before it reaches the database, on either kind of database. */
describe.each(DATABASE_KINDS)('malformed input on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);
  const get = (query: string) =>
    api.app.yoga.fetch(`http://doorstep.test/graphql?${query}`, { headers: { accept: 'application/graphql-response+json', authorization: `Bearer ${ws.secretKey}` } });
  const draft = async () => (await api.gql(ws.secretKey, '{ flow(key: "self-serve") { draft { revision content } } }')).data!.flow.draft;

  it('should answer a GET whose variables are not JSON with a 400 GraphQL error naming the parameter', async () => {
    const res = await get('query=query($k:String!){flow(key:$k){key}}&variables={"k":');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ errors: [{ message: 'The variables parameter is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('should answer a GET whose extensions are not JSON with a 400 GraphQL error', async () => {
    const res = await get('query={__typename}&extensions=nope');
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0]).toEqual({ message: 'The extensions parameter is not valid JSON', extensions: { code: 'BAD_REQUEST' } });
  });

  it('should refuse a batch whose entries are not objects ([null]) with a 400, not an unexpected error', async () => {
    for (const body of [[null], [null, { query: '{ __typename }' }], [1]]) {
      const res = await api.request(ws.secretKey, body);
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).not.toMatch(/Unexpected error|INTERNAL_SERVER_ERROR/);
    }
  });

  it('should refuse a variable nested deeper than the limit, naming the variable', async () => {
    // Written out by hand: JSON.stringify itself recurses, and would overflow first.
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const res = await api.app.yoga.fetch('http://doorstep.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${ws.secretKey}` },
      body: `{"query": ${JSON.stringify(SAVE_DRAFT)}, "variables": {"r": 1, "c": ${deep}}}`,
    });
    expect(res.status).toBe(400);
    expect((await res.json()).errors).toEqual([{ message: `Variable "$c" nests deeper than ${MAX_NESTING} levels of objects and lists`, extensions: { code: 'LIMIT_EXCEEDED' } }]);
  });

  it('should accept a variable nested exactly to the limit', async () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < MAX_NESTING; i++) deep = [deep];
    const res = await api.gql(ws.secretKey, SAVE_DRAFT, { c: deep, r: 1 });
    expect(res.data!.saveDraft.__typename).toBe('ValidationError');
  });

  it('should refuse a NUL character in draft content as a validation issue at its field', async () => {
    const { content, revision } = await draft();
    content.welcome.title = 'Welcome\u0000aboard';
    const res = await api.gql(ws.secretKey, SAVE_DRAFT, { c: content, r: revision });
    expect(res.data!.saveDraft).toEqual({
      __typename: 'ValidationError', issues: [{ path: 'content.welcome.title', message: 'Text cannot contain the NUL character (U+0000)' }],
    });
  });

  it('should refuse an unpaired surrogate in draft content as a validation issue at its field', async () => {
    const { content, revision } = await draft();
    content.steps[0].body = 'Half an emoji: \ud83d';
    const res = await api.gql(ws.secretKey, SAVE_DRAFT, { c: content, r: revision });
    expect(res.data!.saveDraft.issues).toEqual([{ path: 'content.steps.0.body', message: 'Text cannot contain an unpaired surrogate (U+D83D), which is not valid Unicode' }]);
  });

  it('should keep emoji, whose surrogates come in pairs', async () => {
    const { content, revision } = await draft();
    content.welcome.title = 'Welcome 🎉';
    expect((await api.gql(ws.secretKey, SAVE_DRAFT, { c: content, r: revision })).data!.saveDraft).toEqual({ __typename: 'FlowDraft' });
    expect((await draft()).content.welcome.title).toBe('Welcome 🎉');
  });

  it('should refuse a NUL character in a flow name as a validation issue', async () => {
    const res = await api.gql(ws.secretKey, 'mutation($i: CreateFlowInput!) { createFlow(input: $i) { __typename ... on ValidationError { issues { path message } } } }', {
      i: { key: 'nul-name', name: 'Bad\u0000name' },
    });
    expect(res.data!.createFlow.issues).toEqual([{ path: 'name', message: 'Text cannot contain the NUL character (U+0000)' }]);
  });

  it('should refuse a NUL character in a segment condition value as a validation issue at its path', async () => {
    const res = await api.gql(ws.secretKey, 'mutation($i: SegmentInput!) { createSegment(input: $i) { __typename ... on ValidationError { issues { path message } } } }', {
      i: { key: 'nul-condition', name: 'Nul', condition: { plan: { $in: ['pro', 'x\u0000'] } } },
    });
    expect(res.data!.createSegment.issues).toEqual([{ path: 'condition.plan.$in.1', message: 'Text cannot contain the NUL character (U+0000)' }]);
  });

  it('should refuse a NUL character in an unvalidated lookup key as invalid input, not as an unexpected error', async () => {
    const res = await api.gql(ws.secretKey, 'query($k: String!) { flow(key: $k) { key } }', { k: 'self-serve\u0000' });
    expect(res.errors).toEqual([expect.objectContaining({ message: 'Text cannot contain the NUL character (U+0000)', path: ['flow'], extensions: { code: 'VALIDATION' } })]);
  });

  it('should refuse a NUL character in event properties with its path', async () => {
    const res = await api.gql(ws.publicKey, 'mutation($e: [TrackEventInput!]!) { track(events: $e) { accepted } }', {
      e: [{ id: 'nul-event', userId: 'nul-user', name: 'report_opened', properties: { tags: ['ok', 'bad\u0000'] } }],
    });
    expect(res.errors![0].extensions).toMatchObject({ code: 'VALIDATION', issues: [{ path: 'events.0.properties.tags.1', message: 'Text cannot contain the NUL character (U+0000)' }] });
  });

  it('should refuse a user id starting with U+FEFF, which PGlite would read back without it, as a validation issue at its path', async () => {
    const tracked = await api.gql(ws.publicKey, 'mutation($e: [TrackEventInput!]!) { track(events: $e) { accepted } }', {
      e: [{ id: 'bom-event', userId: '\ufeffbom-user', name: 'flow_started', flowKey: 'self-serve' }],
    });
    expect(tracked.errors![0].extensions).toMatchObject({ code: 'VALIDATION', issues: [{ path: 'events.0.userId', message: expect.stringMatching(/^Text cannot start with U\+FEFF/) }] });
    const served = await api.gql(ws.publicKey, 'query($u: OnboardingUserInput!) { onboarding(user: $u) { flow { key } } }', { u: { id: '\ufeffbom-user' } });
    expect(served.errors![0].extensions).toMatchObject({ code: 'VALIDATION', issues: [{ path: 'user.id' }] });
  });

  it('should refuse an unpaired surrogate in user attributes with its path', async () => {
    const res = await api.gql(ws.publicKey, 'query($u: OnboardingUserInput!) { onboarding(user: $u) { flow { key } } }', {
      u: { id: 'surrogate-user', attributes: { company: { name: 'Acme \udc00' } } },
    });
    expect(res.errors![0].extensions).toMatchObject({ code: 'VALIDATION', issues: [{ path: 'user.attributes.company.name' }] });
  });

  it('should name each acceptable media type once when refusing an Accept header of thousands of unknown types', async () => {
    const res = await api.request(ws.secretKey, { query: '{ __typename }' }, { accept: 'b,'.repeat(5_000) });
    expect(res.status).toBe(406);
    expect(res.headers.get('accept')!.split(', ')).toEqual([...new Set(res.headers.get('accept')!.split(', '))]);
    expect(res.headers.get('accept')!.length).toBeLessThan(500);
  });
});
