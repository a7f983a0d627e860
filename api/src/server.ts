import { createServer, type Server } from 'node:http';
import type { TApp } from './app.ts';

/** The HTTP listener: /healthz for load balancers, everything else to yoga. */
export function listen(app: TApp, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    void app.yoga(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
