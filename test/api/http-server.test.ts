import { request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, type TApp } from '../../api/src/app.ts';
import { listen, MAX_REQUEST_BODY_BYTES } from '../../api/src/server.ts';
import { createTestDatabase, type TTestDatabase } from '../support/databases.ts';

describe('HTTP listener', () => {
  let database: TTestDatabase;
  let app: TApp;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    app = await createApp({ db: database.db });
    server = await listen(app, 0, '127.0.0.1');
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server?.close();
    await app?.close();
    await database?.drop();
  });

  it('should answer /healthz with 200', async () => {
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('should refuse a body over the limit with 413 before reading it', async () => {
    const body = JSON.stringify({ query: '{ __typename }', padding: 'x'.repeat(MAX_REQUEST_BODY_BYTES) });
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(413);
  });

  it('should refuse a chunked body without Content-Length with 411', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.write('{"query":"{ __typename }"}');
      req.end();
    });
    expect(status).toBe(411);
  });

  it('should refuse a Host header that does not form a URL with 400, without a stack trace', async () => {
    const { port } = server.address() as { port: number };
    for (const host of ['[', '::1:::', 'a b']) {
      // Written on a socket: HTTP clients do not send such a Host.
      const answer = await new Promise<string>((resolve, reject) => {
        let text = '';
        const socket = connect(port, '127.0.0.1', () => socket.write(`GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
        socket.on('data', (chunk) => { text += chunk; });
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toContain('The Host header and the request target do not form a valid URL');
      expect(answer).not.toMatch(/ {4}at |node_modules/);
    }
  });

  it('should hand yoga a large body it read without enumerating its bytes', async () => {
    // Yoga's server adapter counts the keys of a body read before it: a Buffer's keys are its indices.
    const keys = vi.spyOn(Object, 'keys');
    try {
      const body = JSON.stringify({ query: `{ __typename } # ${'c'.repeat(200_000)}` });
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
      expect(Math.max(...keys.mock.results.map((result) => (Array.isArray(result.value) ? result.value.length : 0)))).toBeLessThan(1_000);
    } finally {
      keys.mockRestore();
    }
  });

  it('should serve an ordinary GraphQL request', async () => {
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });
});
