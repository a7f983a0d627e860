import { describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import { DOCUMENT_LIMITS } from '../../api/src/app.ts';
import { DOCUMENT_CACHE_LIMITS, DocumentCache } from '../../api/src/document-cache-plugin.ts';
import { MAX_DOCUMENT_NESTING } from '../../api/src/input-limits-plugin.ts';
import { useTestApi, useTestWorkspace } from '../support/api.ts';

/** segments → flows → segment → flows …: the object graph's cycle, `levels` times round. */
const cycle = (levels: number) => `{ segments { key ${'flows { segment { '.repeat(levels)}key${' } }'.repeat(levels)} } }`;

describe('document limits', () => {
  const api = useTestApi('pglite');
  const ws = useTestWorkspace(api);
  /** The refusal as a client sees it: HTTP status and the errors' codes and messages. */
  const refusal = async (key: string | null, query: string) => {
    const res = await api.request(key, { query });
    const body = await res.json();
    return { status: res.status, data: body.data, codes: body.errors?.map((e: any) => e.extensions?.code), message: body.errors?.map((e: any) => e.message).join(' | ') };
  };

  it('should refuse a query that goes round the flow-segment cycle, quickly and with a clear error', async () => {
    const started = Date.now();
    const res = await refusal(ws.secretKey, cycle(40));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.data).toBeUndefined();
    // Depth and cost both bound it; both are reported.
    expect(res.message).toMatch(/depth|cost/i);
  });

  it('should refuse with status 400, code LIMIT_EXCEEDED and no "Syntax Error" prefix, since the document is well formed', async () => {
    const res = await refusal(ws.secretKey, cycle(40));
    expect(res.status).toBe(400);
    expect(new Set(res.codes)).toEqual(new Set(['LIMIT_EXCEEDED']));
    expect(res.message).not.toMatch(/syntax/i);
  });

  it('should still answer a query within the limits', async () => {
    const res = await api.gql(ws.secretKey, '{ flows { key segment { key flows { key segment { key } } } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.flows.length).toBeGreaterThan(0);
  });

  it('should refuse more aliases than the limit, so one request cannot multiply a field', async () => {
    const aliases = Array.from({ length: DOCUMENT_LIMITS.aliases + 1 }, (_, i) => `a${i}: setupRequired`).join(' ');
    const res = await refusal(null, `{ ${aliases} }`);
    expect(res).toMatchObject({ status: 400, data: undefined, codes: ['LIMIT_EXCEEDED'], message: `Aliases limit of ${DOCUMENT_LIMITS.aliases} exceeded, found ${DOCUMENT_LIMITS.aliases + 1}.` });
  });

  it('should refuse a document with more tokens than the limit', async () => {
    const res = await refusal(ws.secretKey, `{ ${'__typename '.repeat(DOCUMENT_LIMITS.tokens)} }`);
    expect(res).toMatchObject({ status: 400, data: undefined, codes: ['LIMIT_EXCEEDED'], message: `Token limit of ${DOCUMENT_LIMITS.tokens} exceeded.` });
  });

  it('should refuse a literal nested thousands of levels deep before parsing it, instead of overflowing the stack', async () => {
    const literal = `${'{a: '.repeat(2000)}1${'}'.repeat(2000)}`;
    const res = await refusal(ws.secretKey, `mutation { saveDraft(flowKey: "self-serve", revision: 1, content: ${literal}) { __typename } }`);
    expect(res).toMatchObject({ status: 400, codes: ['LIMIT_EXCEEDED'], message: `The document nests deeper than ${MAX_DOCUMENT_NESTING} levels of braces, brackets and parentheses` });
  });

  it('should not count brackets inside strings and comments as nesting', async () => {
    const brackets = '['.repeat(MAX_DOCUMENT_NESTING + 1);
    const res = await api.gql(ws.secretKey, `query {\n# ${brackets}\n flow(key: "${brackets}") { key } other: flow(key: """${brackets} \\""" ${brackets}""") { key } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ flow: null, other: null });
  });

  it('should hold no more than the parse cache\'s characters, however many distinct large documents arrive', async () => {
    // Each a distinct document of about 4,800 tokens, over the alias limit: a few MB apiece once parsed.
    const documents = Array.from({ length: 60 }, (_, i) => `{ ${Array.from({ length: 1600 }, (_, j) => `a${j}: f${i}`).join(' ')} }`);
    expect(documents.reduce((sum, d) => sum + d.length, 0)).toBeGreaterThan(DOCUMENT_CACHE_LIMITS.characters);
    for (const document of documents) expect((await refusal(ws.secretKey, document)).codes).toContain('LIMIT_EXCEEDED');
    expect(api.app.documentCache.characters).toBeLessThanOrEqual(DOCUMENT_CACHE_LIMITS.characters);
  });

  it('should refuse an invalid document again when it comes from the cache, and answer a valid one the same', async () => {
    const invalid = '{ flows { key notAField } }';
    const first = await refusal(ws.secretKey, invalid);
    expect(first.status).toBe(400);
    expect(await refusal(ws.secretKey, invalid)).toEqual(first);
    const valid = '{ flows { key } }';
    const answer = await api.gql(ws.secretKey, valid);
    expect(answer.errors).toBeUndefined();
    expect(await api.gql(ws.secretKey, valid)).toEqual(answer);
  });

  it('should evict the least recently used documents first, and keep none larger than an eighth of the cache', () => {
    const cache = new DocumentCache({ documents: 2, characters: 800 });
    const doc = parse('{ __typename }');
    cache.set('a', doc);
    cache.set('b', doc);
    cache.get('a');
    cache.set('c', doc);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([doc, undefined, doc]);
    cache.set('x'.repeat(101), doc);
    expect(cache.get('x'.repeat(101))).toBeUndefined();
    expect(cache.characters).toBe(2);
  });
});
