import net from 'node:net';
import { type ClientOptions, type ContinuumClient, createClient } from '../../src/client/index.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import { buildTestApp, type TestApp, type TestAppOptions } from '../helpers/test-app.ts';

/** A real in-process server on a loopback port, with a fake clock, and one tenant. */
export interface ClientTestServer {
  t: TestApp;
  url: string;
  port: number;
  clock: FakeClock;
  apiKey: string;
  /** A client of this server (through `baseUrl`, e.g. a proxy's, when given). */
  client(options?: Partial<ClientOptions>): ContinuumClient;
  close(): Promise<void>;
}

export async function startServer(options: TestAppOptions = {}): Promise<ClientTestServer> {
  const t = await buildTestApp(options);
  const url = await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { apiKey } = await t.createTenant();
  return {
    t,
    url,
    port: Number(new URL(url).port),
    clock: t.clock,
    apiKey,
    client: (o = {}) => createClient({ baseUrl: url, apiKey, subject: 'patient-1', clock: t.clock, ...o }),
    close: () => t.close(),
  };
}

/** One request seen by {@link tapFetch}. */
export interface Exchange {
  method: string;
  path: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** Parsed JSON answer of the token endpoint (other bodies are left to the caller). */
  answer?: unknown;
}

/**
 * The real `fetch`, recording what went over the wire: the SDK under test
 * talks to the real server; the test reads the exchanges.
 */
export function tapFetch(): { fetch: NonNullable<ClientOptions['fetch']>; exchanges: Exchange[] } {
  const exchanges: Exchange[] = [];
  return {
    exchanges,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const headers = Object.fromEntries(new Headers(init?.headers).entries());
      const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
      const path = new URL(input).pathname;
      const exchange: Exchange = { method: init?.method ?? 'GET', path, status: response.status, headers, body };
      if (path === '/v1/auth/token') exchange.answer = await response.clone().json();
      exchanges.push(exchange);
      return response;
    },
  };
}

/**
 * A TCP proxy in front of the server, to cut connections as a flaky network
 * would: `dropAll()` resets every open connection; `stallAll()` stops
 * forwarding the server's bytes on them without closing anything;
 * `cutNextResponse(marker)` lets a request reach the server but resets the
 * connection as an answer containing `marker` starts (a response lost in
 * transit, e.g. `text/event-stream` or `201 Created`).
 */
export async function startProxy(serverPort: number) {
  let targetPort = serverPort;
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; stalled: boolean }>();
  let cutMarker: string | undefined;
  let connections = 0;
  const server = net.createServer((client) => {
    connections += 1;
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream, stalled: false };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      if (pair.stalled) return;
      if (cutMarker !== undefined && chunk.toString('latin1').includes(cutMarker)) {
        cutMarker = undefined;
        end();
        return;
      }
      client.write(chunk);
    });
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    /** Connections accepted so far. */
    get connections() {
      return connections;
    },
    dropAll() {
      for (const pair of [...pairs]) {
        pair.client.resetAndDestroy();
        pair.upstream.destroy();
        pairs.delete(pair);
      }
    },
    stallAll() {
      for (const pair of pairs) pair.stalled = true;
    },
    /** Send new connections to another port (a restarted server). */
    retarget(port: number) {
      targetPort = port;
    },
    cutNextResponse(marker: string) {
      cutMarker = marker;
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** One event read by {@link readLog}. */
export interface RawEvent {
  id: string;
  event: string;
  data: unknown;
}

/**
 * The conversation's event log as the server keeps it, read with a plain
 * fetch and a minimal parser (not the SDK's): `GET …/events` from the start,
 * until `stop` says so.
 */
export async function readLog(
  url: string,
  token: string,
  conversationId: string,
  stop: (event: RawEvent, all: RawEvent[]) => boolean,
): Promise<RawEvent[]> {
  const controller = new AbortController();
  const response = await fetch(`${url}/v1/conversations/${conversationId}/events`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: controller.signal,
  });
  if (!response.ok) throw new Error(`GET events: ${response.status} ${await response.text()}`);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: RawEvent[] = [];
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return events;
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: RawEvent = { id: '', event: 'message', data: '' };
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) event.id = line.slice(4);
          else if (line.startsWith('event: ')) event.event = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (data.length === 0) continue;
        event.data = JSON.parse(data.join('\n'));
        events.push(event);
        if (stop(event, events)) return events;
      }
    }
  } finally {
    controller.abort();
  }
}

/**
 * What an undisturbed `POST …/turns` stream carries for the reply to user
 * turn `number`, taken from the event log: that turn's event, then every
 * later event but stored turns, up to `done` or `error`.
 */
export async function undisturbedReply(
  url: string,
  token: string,
  conversationId: string,
  number: number,
): Promise<RawEvent[]> {
  const isTheTurn = (e: RawEvent) => e.event === 'turn' && (e.data as { number: number }).number === number;
  let reached = false;
  const log = await readLog(url, token, conversationId, (e) => {
    if (!reached) reached = isTheTurn(e);
    else if (e.event === 'done' || e.event === 'error') return true;
    return false;
  });
  let started = false;
  const out: RawEvent[] = [];
  for (const event of log) {
    if (!started) {
      if (isTheTurn(event)) {
        started = true;
        out.push(event);
      }
      continue;
    }
    if (event.event !== 'turn') out.push(event);
  }
  return out;
}

/** Lets pending I/O run. */
export const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));
