import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
import { OpenFeature as ServerOpenFeature } from '@openfeature/server-sdk';
import { OpenFeature as WebOpenFeature } from '@openfeature/web-sdk';
import { describe, expect, it } from 'vitest';
import { MAX_NESTING } from '../../api/src/input-limits-plugin.ts';
import { useListeningApi, useTestApi, useTestWorkspace } from '../support/api.ts';
import { DATABASE_KINDS } from '../support/databases.ts';
import { launchedExperiment } from '../support/experiments.ts';

describe.each(DATABASE_KINDS)('OpenFeature remote evaluation on %s', (kind) => {
  const api = useTestApi(kind);
  const ws = useTestWorkspace(api);
  const http = useListeningApi(api);

  const post = (path: string, body: unknown, key: string | null = ws.publicKey, headers: Record<string, string> = {}) =>
    fetch(`${http.origin}/ofrep/v1/evaluate/flags${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('should answer single evaluations through the OpenFeature server SDK and its OFREP provider', async () => {
    const provider = new OFREPProvider({ baseUrl: http.origin, headers: [['Authorization', `Bearer ${ws.publicKey}`]] });
    await ServerOpenFeature.setProviderAndWait(`doorstep-${kind}`, provider);
    const client = ServerOpenFeature.getClient(`doorstep-${kind}`);
    const big = { targetingKey: 'of-1', companySize: 500 };
    expect(await client.getStringValue('onboarding', 'none', big)).toBe('sales-assisted');
    const details = await client.getBooleanDetails('sales-assisted', false, big);
    expect(details).toMatchObject({ value: true, reason: 'TARGETING_MATCH', variant: 'released', flagMetadata: { flowKey: 'sales-assisted', version: 1 } });
    expect(await client.getBooleanValue('self-serve', true, big)).toBe(false);
    const missing = await client.getBooleanDetails('no-such-flow', false, big);
    expect(missing).toMatchObject({ value: false, errorCode: 'FLAG_NOT_FOUND' });
  });

  it('should answer bulk evaluations through the OpenFeature web SDK and its OFREP provider, variant included', async () => {
    await launchedExperiment(api, ws, 'of-welcome');
    const provider = new OFREPWebProvider({ baseUrl: http.origin, headers: [['Authorization', `Bearer ${ws.publicKey}`]], disableVisibilityRefresh: true });
    await WebOpenFeature.setContext(`doorstep-web-${kind}`, { targetingKey: 'of-2' });
    await WebOpenFeature.setProviderAndWait(`doorstep-web-${kind}`, provider);
    const client = WebOpenFeature.getClient(`doorstep-web-${kind}`);
    expect(client.getStringValue('onboarding', 'none')).toBe('self-serve');
    const served = client.getBooleanDetails('self-serve', false);
    expect(served.value).toBe(true);
    expect(['control', 'short']).toContain(served.variant);
    expect(client.getBooleanValue('developer-quickstart', true)).toBe(false);
    await WebOpenFeature.clearProviders();
  });

  it('should give bulk results an ETag and answer 304 while they are unchanged', async () => {
    const context = { context: { targetingKey: 'of-3', role: 'developer' } };
    const first = await post('', context);
    expect(first.status).toBe(200);
    const body = await first.json();
    expect(body.flags.find((f: any) => f.key === 'onboarding').value).toBe('developer-quickstart');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^W\//);
    expect((await post('', context, ws.publicKey, { 'if-none-match': etag })).status).toBe(304);
    // Dismissing the flow changes what the user gets, so the bulk result and its ETag change.
    await api.gql(ws.publicKey, 'mutation { track(events: [{ id: "of3-1", userId: "of-3", name: "flow_dismissed", flowKey: "developer-quickstart" }]) { accepted } }');
    const after = await post('', context, ws.publicKey, { 'if-none-match': etag });
    expect(after.status).toBe(200);
    expect((await after.json()).flags.find((f: any) => f.key === 'onboarding').value).toBe('');
  });

  it('should refuse bad requests with OFREP error codes', async () => {
    expect((await post('/onboarding', {}, null)).status).toBe(401);
    expect((await post('/onboarding', {}, ws.secretKey)).status).toBe(403);
    const parse = await post('/onboarding', '{not json');
    expect([parse.status, (await parse.json()).errorCode]).toEqual([400, 'PARSE_ERROR']);
    const noKey = await post('/onboarding', { context: { plan: 'pro' } });
    expect([noKey.status, (await noKey.json()).errorCode]).toEqual([400, 'TARGETING_KEY_MISSING']);
    const badLocale = await post('/onboarding', { context: { targetingKey: 'x', locale: 'not a locale' } });
    expect([badLocale.status, (await badLocale.json()).errorCode]).toEqual([400, 'INVALID_CONTEXT']);
    const badPath = await post('/%E0%A4%A', { context: { targetingKey: 'x' } });
    expect([badPath.status, (await badPath.json()).errorCode]).toEqual([400, 'PARSE_ERROR']);
    const unknown = await post('/nope', { context: { targetingKey: 'x' } });
    expect([unknown.status, await unknown.json()]).toEqual([404, expect.objectContaining({ key: 'nope', errorCode: 'FLAG_NOT_FOUND' })]);
  });

  it('should refuse a context nested past the nesting limit with INVALID_CONTEXT, not an unexpected error', async () => {
    // Written out by hand: JSON.stringify itself recurses, and would overflow first.
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const res = await post('/onboarding', `{"context": {"targetingKey": "deep-user", "company": ${deep}}}`);
    expect([res.status, await res.json()]).toEqual([400, { key: 'onboarding', errorCode: 'INVALID_CONTEXT', errorDetails: `context nests deeper than ${MAX_NESTING} levels of objects and lists` }]);
    let nested: unknown = 'bottom';
    for (let i = 0; i < MAX_NESTING - 1; i++) nested = { a: nested };
    expect((await post('/onboarding', { context: { targetingKey: 'deep-user', company: nested } })).status).toBe(200);
  });
});
