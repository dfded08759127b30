/**
 * The part every loopback model fake shares: a node:http server on
 * 127.0.0.1, a queue of scripted replies, and a record of the requests it
 * received.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake answers one streaming request. */
export type FakeReply =
  | {
      kind: 'stream';
      /** Text deltas, sent in order. */
      chunks: string[];
      /** Pause before each delta, in ms (default 0). */
      delayMs?: number;
      /** The API's own stop reason (default: its "finished normally" value). */
      stopReason?: string;
      usage?: { input: number; output: number };
      /** Destroy the socket after this many deltas (no terminal event). */
      cutAfter?: number;
      /** Send bytes the API's parser cannot read after this many deltas. */
      garbageAfter?: number;
      /** Keep the connection open and silent after this many deltas. */
      hangAfter?: number;
      /** Send the API's in-stream error event after this many deltas. */
      errorAfter?: number;
    }
  /** Answer with this HTTP status and the API's error body, before any streaming. */
  | { kind: 'status'; status: number; message?: string; errorType?: string }
  /** Never answer; with `afterHeaders`, send the streaming headers then nothing. */
  | { kind: 'hang'; afterHeaders?: boolean };

export interface RecordedRequest {
  method: string;
  /** Path and query, percent-decoded. */
  path: string;
  headers: IncomingMessage['headers'];
  /** The JSON body (undefined when empty or not JSON). */
  body: unknown;
}

/** The API-specific half of a fake. */
export interface FakeApi {
  /** Handle `req`; `next()` takes the next scripted reply. Return false for an unknown route (404). */
  handle(req: RecordedRequest, res: ServerResponse, next: () => FakeReply, probe: FakeReply): Promise<boolean>;
}

export interface FakeServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Queue replies for the next streaming requests; when the queue is empty the default reply is used. */
  enqueue(...replies: FakeReply[]): void;
  setDefault(reply: FakeReply): void;
  /** The answer to probe requests (models list, count-tokens); default a success. */
  setProbe(reply: FakeReply): void;
  /** Forget the queue, the record and the default and probe replies. */
  reset(): void;
  /** Resolves once at least `n` requests arrived. */
  waitForRequests(n: number): Promise<void>;
  close(): Promise<void>;
}

const OK: FakeReply = { kind: 'stream', chunks: ['ok'] };

export async function startFakeServer(api: FakeApi): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const queue: FakeReply[] = [];
  let fallback: FakeReply = OK;
  let probe: FakeReply = { kind: 'status', status: 200 };
  const waiters: { n: number; resolve: () => void }[] = [];

  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      const raw = Buffer.concat(parts).toString('utf8');
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = undefined;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(req.url ?? '/'),
        headers: req.headers,
        body,
      };
      requests.push(recorded);
      for (const w of waiters.splice(0)) {
        if (requests.length >= w.n) w.resolve();
        else waiters.push(w);
      }
      const next = (): FakeReply => queue.shift() ?? fallback;
      api.handle(recorded, res, next, probe).then(
        (handled) => {
          if (!handled) {
            res.writeHead(404, { 'content-type': 'application/json' });
            res.end('{"message":"no such route in the fake"}');
          }
        },
        () => res.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...replies) => queue.push(...replies),
    setDefault: (reply) => {
      fallback = reply;
    },
    setProbe: (reply) => {
      probe = reply;
    },
    reset: () => {
      queue.length = 0;
      requests.length = 0;
      fallback = OK;
      probe = { kind: 'status', status: 200 };
    },
    waitForRequests: (n) =>
      requests.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Wait `ms` of real time (the fake's own pacing, not a test's). */
export function pause(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/** Write and wait until the chunk is handed to the socket. */
export function write(res: ServerResponse, chunk: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => res.write(chunk, (err) => (err ? reject(err) : resolve())));
}

/** Kill the connection mid-response: no final chunk, no terminal event. */
export function cut(res: ServerResponse): void {
  res.socket?.destroy();
}
