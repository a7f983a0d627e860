// The Lumen demo app: a tiny node:http server for one page, its styles and its bundled script, with
// the Doorstep API URL and public key injected into the page. `pnpm start` runs it next to the API.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { buildDemoFiles } from './build.mjs';

const port = Number(process.env.DOORSTEP_DEMO_PORT ?? 3001);
const host = process.env.DOORSTEP_DEMO_HOST ?? '0.0.0.0';
const apiUrl = process.env.DOORSTEP_DEMO_API_URL ?? 'http://localhost:4000/graphql';
const publicKey = process.env.DOORSTEP_DEMO_PUBLIC_KEY;
if (!publicKey?.startsWith('dpk_')) {
  console.error('The demo needs DOORSTEP_DEMO_PUBLIC_KEY, a public key (dpk_…) of the demo workspace');
  process.exit(1);
}

// `<` escaped, so no value can close the script element it sits in.
const config = JSON.stringify({ apiUrl, publicKey }).replace(/</g, '\\u003c');
const page = readFileSync(new URL('index.html', import.meta.url), 'utf8')
  .replace('<!-- doorstep:config -->', `<script type="application/json" id="demo-config">${config}</script>`);
const files = {
  ...Object.fromEntries(Object.entries(await buildDemoFiles()).map(([path, body]) => [path, { type: 'text/javascript', body }])),
  '/styles.css': { type: 'text/css', body: readFileSync(new URL('styles.css', import.meta.url), 'utf8') },
};
const headers = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // The element needs no inline script or style: its styles are a constructed stylesheet.
  'content-security-policy': [
    "default-src 'self'", "script-src 'self'", "style-src 'self'", `connect-src ${new URL(apiUrl).origin}`,
    "img-src 'self' https: data:", 'media-src https:', "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  ].join('; '),
};

const server = createServer((request, response) => {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const path = new URL(request.url ?? '/', 'http://demo').pathname;
  if (path === '/healthz') {
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  // Every other path is the page: links the onboarding opens land back on it.
  const file = files[path] ?? { type: 'text/html; charset=utf-8', body: page };
  response.writeHead(200, { ...headers, 'content-type': file.type });
  response.end(request.method === 'HEAD' ? undefined : file.body);
});
server.listen(port, host);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    // Browsers keep connections open; they must not hold the stop.
    server.closeAllConnections();
  });
}
