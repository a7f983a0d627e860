import { createServer, connect, type Server, type Socket } from 'node:net';
import { POSTGRES_ADMIN_URL } from './databases.ts';

export type TFaultProxy = {
  port: number;
  /** `url` (a PostgreSQL URL) with its host and port replaced by the proxy's. */
  proxied(url: string): string;
  /** Drops every open connection and refuses new ones, as a database that went away would. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  close(): Promise<void>;
};

/**
 * A TCP proxy in front of the machine's PostgreSQL that a test can break: an app pointed at it sees
 * the database fail mid-batch, while every other test keeps using PostgreSQL directly. A cut
 * connection is reset (RST), not ended, so the client learns of it at once instead of waiting for
 * a timeout.
 */
export async function startFaultProxy(targetUrl = POSTGRES_ADMIN_URL): Promise<TFaultProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || 5432);
  const targetHost = target.hostname;
  const open = new Set<Socket>();
  let refusing = false;

  const track = (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    // Errors are expected once the proxy cuts; without a listener they would crash the test worker.
    socket.on('error', () => undefined);
  };

  const server: Server = createServer((client) => {
    track(client);
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };

  return {
    port,
    proxied: (url) => {
      const next = new URL(url);
      next.hostname = '127.0.0.1';
      next.port = String(port);
      return next.toString();
    },
    cut: () => {
      refusing = true;
      for (const socket of open) socket.resetAndDestroy();
    },
    restore: () => { refusing = false; },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
