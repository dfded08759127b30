import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A delivery as the receiver saw it. */
export interface Received {
  at: number;
  status: number;
  contentType: string | undefined;
  body: unknown;
}

/**
 * A loopback HTTP receiver for alert webhooks: answers each POST with the
 * next status of `statuses` (the last one repeats), or holds it for
 * `holdMs` first, and records every delivery.
 */
export async function startReceiver(options: { statuses?: number[]; holdMs?: number } = {}) {
  const statuses = [...(options.statuses ?? [200])];
  const received: Received[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const status = statuses.length > 1 ? statuses.shift()! : statuses[0]!;
      const answer = () => {
        received.push({
          at: Date.now(),
          status,
          contentType: req.headers['content-type'],
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'try later');
        for (const waiter of waiters.filter((w) => received.length >= w.count)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      };
      if (options.holdMs) setTimeout(answer, options.holdMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/continuum`,
    received,
    /** Resolves once `count` deliveries have been answered (rejects after `timeoutMs`). */
    until(count: number, timeoutMs = 10_000): Promise<void> {
      if (received.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${received.length} of ${count} deliveries in ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
