import { describe, expect, it } from 'vitest';
import { useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';
import { createSecretKey } from '../support/keys.ts';

const SAVE = `mutation($c: JSON!, $r: Int!) { saveDraft(flowKey: "self-serve", revision: $r, content: $c) { __typename ... on FlowDraft { revision } } }`;
const PUBLISH = `mutation($env: String!, $rev: Int) { publishFlow(flowKey: "self-serve", environmentKey: $env, expectedRevision: $rev) {
  __typename ... on FlowRelease { version { number } updatedBy environment { key } } ... on Error { code message } ... on ConflictError { currentRevision }
} }`;
const ROLLBACK = `mutation($v: Int!) { rollbackFlow(flowKey: "self-serve", environmentKey: "production", version: $v) {
  __typename ... on FlowRelease { version { number } } ... on ValidationError { issues { path message } } ... on Error { code }
} }`;
const SERVED = '{ onboarding(user: { id: "p" }) { version welcome { title } } }';

describe.each(DATABASE_KINDS)('publishing on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);

  const editTitle = async (title: string) => {
    const { draft } = (await api.gql(ws.secretKey, '{ flow(key: "self-serve") { draft { revision content } } }')).data!.flow;
    const res = await api.gql(ws.secretKey, SAVE, { c: { ...draft.content, welcome: { ...draft.content.welcome, title } }, r: draft.revision });
    return res.data!.saveDraft.revision as number;
  };
  const publish = async (env = 'production', rev?: number) => (await api.gql(ws.secretKey, PUBLISH, { env, rev })).data!.publishFlow;
  const served = async () => (await api.gql(ws.publicKey, SERVED)).data!.onboarding;

  it('should publish the draft as the next version and serve it at once', async () => {
    await editTitle('Version two');
    expect(await publish()).toMatchObject({ __typename: 'FlowRelease', version: { number: 2 }, environment: { key: 'production' } });
    expect(await served()).toEqual({ version: 2, welcome: { title: 'Version two' } });
  });

  it('should reuse the latest version when the draft has not changed since', async () => {
    await editTitle('Shared');
    await publish('staging');
    expect((await publish('production')).version.number).toBe(2);
    const versions = await api.gql(ws.secretKey, '{ flow(key: "self-serve") { versions { number } } }');
    expect(versions.data!.flow.versions.map((v: any) => v.number)).toEqual([2, 1]);
  });

  it('should keep published versions unchanged when the draft is edited again', async () => {
    await editTitle('Frozen');
    await publish();
    await editTitle('Later edit');
    const versions = await api.gql(ws.secretKey, '{ flow(key: "self-serve") { versions { number content } } }');
    expect(versions.data!.flow.versions[0].content.welcome.title).toBe('Frozen');
    expect((await served()).welcome.title).toBe('Frozen');
  });

  it('should refuse to publish a draft that moved on from the reviewed revision', async () => {
    const reviewed = await editTitle('Reviewed');
    await editTitle('Sneaked in');
    expect(await publish('production', reviewed)).toMatchObject({ __typename: 'ConflictError', currentRevision: reviewed + 1 });
    expect((await served()).version).toBe(1);
  });

  it('should roll back to an earlier version and record both moves with who and when', async () => {
    await editTitle('Two');
    await publish();
    const res = await api.gql(ws.secretKey, ROLLBACK, { v: 1 });
    expect(res.data!.rollbackFlow).toMatchObject({ __typename: 'FlowRelease', version: { number: 1 } });
    expect(await served()).toEqual({ version: 1, welcome: { title: 'Welcome to Lumen' } });
    const history = await api.gql(ws.secretKey, '{ flow(key: "self-serve") { history { kind actor createdAt environment { key } fromVersion { number } toVersion { number } } } }');
    const production = history.data!.flow.history.filter((m: any) => m.environment.key === 'production');
    expect(production.map((m: any) => [m.kind, m.fromVersion?.number ?? null, m.toVersion.number])).toEqual([
      ['rollback', 2, 1], ['publish', 1, 2], ['publish', null, 1],
    ]);
    expect(production[0].actor).toBe('key:Demo admin');
    expect(Date.parse(production[0].createdAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('should refuse to roll back to the current, a later or a missing version', async () => {
    for (const version of [1, 7]) {
      const res = await api.gql(ws.secretKey, ROLLBACK, { v: version });
      expect(res.data!.rollbackFlow.issues[0].path).toBe('version');
    }
  });

  it('should diff two versions field by field, and a version against the draft', async () => {
    await editTitle('Diffed');
    await publish();
    const res = await api.gql(ws.secretKey, '{ versionDiff(flowKey: "self-serve", from: 1, to: 2) { path kind before after } }');
    expect(res.data!.versionDiff).toEqual([{ path: 'welcome.title', kind: 'changed', before: 'Welcome to Lumen', after: 'Diffed' }]);
    const { draft } = (await api.gql(ws.secretKey, '{ flow(key: "self-serve") { draft { revision content } } }')).data!.flow;
    const content = structuredClone(draft.content);
    content.steps = [content.steps[1], content.steps[0], ...content.steps.slice(2, 3)];
    await api.gql(ws.secretKey, SAVE, { c: content, r: draft.revision });
    const toDraft = await api.gql(ws.secretKey, '{ versionDiff(flowKey: "self-serve", from: 2) { path kind } }');
    expect(toDraft.data!.versionDiff).toEqual([
      { path: 'steps[id=invite-team]', kind: 'removed' },
      { path: 'steps.order', kind: 'changed' },
    ]);
  });

  it('should let only publishers and admins publish or roll back', async () => {
    await editTitle('Blocked');
    for (const role of ['viewer', 'editor'] as const) {
      const key = await createSecretKey(api, ws.secretKey, role);
      const res = await api.gql(key, PUBLISH, { env: 'production' });
      expect(res.data!.publishFlow).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
      expect((await api.gql(key, ROLLBACK, { v: 1 })).data!.rollbackFlow.__typename).toBe('ForbiddenError');
    }
    const publisher = await createSecretKey(api, ws.secretKey, 'publisher');
    expect((await api.gql(publisher, PUBLISH, { env: 'production' })).data!.publishFlow.version.number).toBe(2);
  });

  it('should give concurrent publishes of one flow distinct, gapless version numbers', async () => {
    await editTitle('Race');
    const results = await Promise.all(['production', 'staging', 'production', 'staging'].map((env) => publish(env)));
    expect(results.every((r) => r.__typename === 'FlowRelease')).toBe(true);
    const versions = await api.gql(ws.secretKey, '{ flow(key: "self-serve") { versions { number } } }');
    expect(versions.data!.flow.versions.map((v: any) => v.number)).toEqual([2, 1]);
  });
});
