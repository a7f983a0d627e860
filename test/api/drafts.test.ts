import { describe, expect, it } from 'vitest';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';

const READ = '{ flow(key: "self-serve") { draft { revision content updatedBy warnings } } }';
const SAVE = `mutation($c: JSON!, $r: Int!) { saveDraft(flowKey: "self-serve", revision: $r, content: $c) {
  __typename
  ... on FlowDraft { revision content warnings }
  ... on ConflictError { code message currentRevision }
  ... on ValidationError { code issues { path message } }
} }`;

describe.each(DATABASE_KINDS)('drafts on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  const readDraft = async () => (await api.gql(ws.secretKey, READ)).data!.flow.draft;
  const withTitle = (content: any, title: string) => ({ ...content, welcome: { ...content.welcome, title } });

  it('should save with the current revision and move to the next', async () => {
    const draft = await readDraft();
    const res = await api.gql(ws.secretKey, SAVE, { c: withTitle(draft.content, 'Hello'), r: draft.revision });
    expect(res.data!.saveDraft).toMatchObject({ __typename: 'FlowDraft', revision: draft.revision + 1 });
    expect((await readDraft()).content.welcome.title).toBe('Hello');
  });

  it('should fail a stale save with CONFLICT carrying the current revision, and keep the newer content', async () => {
    const draft = await readDraft();
    await api.gql(ws.secretKey, SAVE, { c: withTitle(draft.content, 'First'), r: draft.revision });
    const stale = await api.gql(ws.secretKey, SAVE, { c: withTitle(draft.content, 'Second'), r: draft.revision });
    expect(stale.data!.saveDraft).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT', currentRevision: draft.revision + 1 });
    expect((await readDraft()).content.welcome.title).toBe('First');
  });

  it('should let exactly one of many concurrent saves at one revision win', async () => {
    const draft = await readDraft();
    const titles = Array.from({ length: 8 }, (_, i) => `Concurrent ${i}`);
    const results = await Promise.all(titles.map((title) => api.gql(ws.secretKey, SAVE, { c: withTitle(draft.content, title), r: draft.revision })));
    const winners = results.filter((r) => r.data!.saveDraft.__typename === 'FlowDraft');
    const conflicts = results.filter((r) => r.data!.saveDraft.__typename === 'ConflictError');
    expect(winners).toHaveLength(1);
    expect(conflicts).toHaveLength(titles.length - 1);
    const stored = await readDraft();
    expect(stored.revision).toBe(draft.revision + 1);
    expect(stored.content.welcome.title).toBe(winners[0].data!.saveDraft.content.welcome.title);
  });

  it('should reject invalid content with a path per problem and change nothing', async () => {
    const draft = await readDraft();
    const content = structuredClone(draft.content);
    content.steps[1].title = '';
    content.steps.push({ ...content.steps[0] });
    content.welcome.body = 'Click <script>alert(1)</script> [here](javascript:alert(1))';
    content.questions[0].options = [{ value: 'only', label: 'Only one' }];
    const res = await api.gql(ws.secretKey, SAVE, { c: content, r: draft.revision });
    const issues = res.data!.saveDraft.issues;
    expect(res.data!.saveDraft.code).toBe('VALIDATION');
    expect(issues.map((i: any) => i.path)).toEqual(expect.arrayContaining([
      'content.steps.1.title', 'content.steps.4.id', 'content.welcome.body', 'content.questions.0.options',
    ]));
    expect(issues.filter((i: any) => i.path === 'content.welcome.body').map((i: any) => i.message)).toEqual([
      expect.stringContaining('HTML'), expect.stringContaining('Links'),
    ]);
    const after = await readDraft();
    expect(after.revision).toBe(draft.revision);
    expect(after.content).toEqual(draft.content);
  });

  it('should enforce limits on strings and lists', async () => {
    const draft = await readDraft();
    const content = structuredClone(draft.content);
    content.welcome.title = 'x'.repeat(121);
    content.steps = Array.from({ length: 21 }, (_, i) => ({ id: `s${i}`, kind: 'info', title: `Step ${i}` }));
    const res = await api.gql(ws.secretKey, SAVE, { c: content, r: draft.revision });
    expect(res.data!.saveDraft.issues.map((i: any) => i.path)).toEqual(expect.arrayContaining(['content.welcome.title', 'content.steps']));
  });

  it('should warn without blocking past five steps', async () => {
    const draft = await readDraft();
    const content = structuredClone(draft.content);
    content.steps.push({ id: 'extra-1', kind: 'info', title: 'Extra 1' }, { id: 'extra-2', kind: 'info', title: 'Extra 2' });
    const res = await api.gql(ws.secretKey, SAVE, { c: content, r: draft.revision });
    expect(res.data!.saveDraft.__typename).toBe('FlowDraft');
    expect(res.data!.saveDraft.warnings).toEqual([expect.stringContaining('6 steps')]);
  });

  it('should warn when a banner flow has more than one step, and not when it is back to one', async () => {
    const created = await api.gql(ws.secretKey, 'mutation { createFlow(input: { key: "notice", name: "Notice", placement: "banner" }) { __typename } }');
    expect(created.data!.createFlow.__typename).toBe('Flow');
    const { draft } = (await api.gql(ws.secretKey, '{ flow(key: "notice") { draft { revision content warnings } } }')).data!.flow;
    expect(draft.warnings).toEqual([]);
    const content = structuredClone(draft.content);
    content.steps.push({ id: 'second', kind: 'info', title: 'Second' });
    const save = (c: unknown, r: number) => api.gql(ws.secretKey, `mutation($c: JSON!, $r: Int!) {
      saveDraft(flowKey: "notice", revision: $r, content: $c) { ... on FlowDraft { revision warnings } } }`, { c, r });
    const twoSteps = (await save(content, draft.revision)).data!.saveDraft;
    expect(twoSteps.warnings).toEqual([expect.stringContaining('A banner shows the welcome only')]);
    expect((await save(draft.content, twoSteps.revision)).data!.saveDraft.warnings).toEqual([]);
  });
});
