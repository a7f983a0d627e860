import { createServer } from 'node:http';

/**
 * The floor to compare against: node:http answering every request with precomputed bytes of the
 * size (and status) the API answers the same request with. It reads the request body, as the API must.
 */
const size = Number(process.argv[2] ?? 2600);
const status = Number(process.argv[3] ?? 200);
const body = status === 304 ? Buffer.alloc(0) : Buffer.from(JSON.stringify({ data: { padding: 'x'.repeat(Math.max(0, size - 24)) } }));
const headers = status === 304 ? { etag: 'W/"0123456789abcdefghijklmnopq"' } : { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length };
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(status, headers).end(body));
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
