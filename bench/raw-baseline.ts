import { createServer } from 'node:http';

/** The floor to compare against: node:http writing a precomputed body of the size the runtime answers. */
const size = Number(process.argv[2] ?? 2600);
const body = Buffer.from(JSON.stringify({ data: { padding: 'x'.repeat(Math.max(0, size - 30)) } }));
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body));
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
