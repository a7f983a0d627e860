import { describe, expect, it } from 'vitest';
import { DOCUMENT_LIMITS } from '../../api/src/app.ts';
import { useTestApi, useTestWorkspace } from '../support/api.ts';

/** segments → flows → segment → flows …: the object graph's cycle, `levels` times round. */
const cycle = (levels: number) => `{ segments { key ${'flows { segment { '.repeat(levels)}key${' } }'.repeat(levels)} } }`;

describe('document limits', () => {
  const api = useTestApi('pglite');
  const ws = useTestWorkspace(api);

  it('should refuse a query that goes round the flow-segment cycle, quickly and with a clear error', async () => {
    const started = Date.now();
    const res = await api.gql(ws.secretKey, cycle(40));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.data).toBeUndefined();
    // Depth and cost both bound it; whichever is checked first refuses it.
    expect(res.errors?.[0].message).toMatch(/depth|cost/i);
  });

  it('should still answer a query within the limits', async () => {
    const res = await api.gql(ws.secretKey, '{ flows { key segment { key flows { key segment { key } } } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.flows.length).toBeGreaterThan(0);
  });

  it('should refuse more aliases than the limit, so one request cannot multiply a field', async () => {
    const aliases = Array.from({ length: DOCUMENT_LIMITS.aliases + 1 }, (_, i) => `a${i}: setupRequired`).join(' ');
    const res = await api.gql(null, `{ ${aliases} }`);
    expect(res.data).toBeUndefined();
    expect(res.errors?.[0].message).toMatch(/alias/i);
  });

  it('should refuse a document with more tokens than the limit', async () => {
    const res = await api.gql(ws.secretKey, `{ ${'__typename '.repeat(DOCUMENT_LIMITS.tokens)} }`);
    expect(res.data).toBeUndefined();
    expect(res.errors?.[0].message).toMatch(/token/i);
  });
});
