/**
 * Server-sent events for the load generator: one SSE request (`GET …/events`
 * followers, `POST …/turns` replies) on its own socket, each event parsed by
 * the client SDK's parser and handed over as it arrives.
 */
import http from 'node:http';
import { type SseMessage, SseParser } from '../../src/client/sse-parser.ts';

/** One event as received; the SDK's parser skips comments (heartbeats, queue positions). */
export type SseEvent = SseMessage;

export interface SseRequestOptions {
  url: string;
  token: string;
  method?: 'GET' | 'POST';
  body?: unknown;
  headers?: Record<string, string>;
  /** Called once the response headers are in with status 200 and an event stream. */
  onOpen?: () => void;
  /** Every event, in order, with `performance.now()` at its arrival. Return true to end the stream. */
  onEvent: (event: SseEvent, at: number) => boolean | undefined;
  /** No response headers within this long: the request fails with `timeout` (default 60 s). */
  connectTimeoutMs?: number;
  /** Send it over this agent's keep-alive sockets (a reply); default a socket of its own (a follower). */
  agent?: http.Agent;
}

/** How an SSE request ended. */
export interface SseEnd {
  /** HTTP status, 0 when no response arrived. */
  status: number;
  /** `network …`, `timeout`, `http` (not 200 or not an event stream), `eof` (the server ended it), `closed` (we did). */
  reason: 'network' | 'timeout' | 'http' | 'eof' | 'closed' | 'done';
  detail: string;
  /** The body of a refused request (a problem document). */
  text: string;
}

/** A running SSE request. */
export interface SseRequest {
  readonly ended: Promise<SseEnd>;
  /** End it from this side (resolves `ended` with `closed`). */
  close(): void;
}

/** Open one SSE request, by default on a socket of its own (a follower holds its connection for its whole life). */
export function openSse(options: SseRequestOptions): SseRequest {
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  const headers: Record<string, string> = {
    accept: 'text/event-stream',
    authorization: `Bearer ${options.token}`,
    ...options.headers,
  };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  let finish: (end: SseEnd) => void = () => {};
  let settled = false;
  const ended = new Promise<SseEnd>((resolve) => {
    finish = (end) => {
      if (settled) return;
      settled = true;
      resolve(end);
    };
  });
  const req = http.request(options.url, { method: options.method ?? 'GET', headers, agent: options.agent ?? false });
  const connectTimer = setTimeout(() => {
    finish({ status: 0, reason: 'timeout', detail: 'no response headers in time', text: '' });
    req.destroy();
  }, options.connectTimeoutMs ?? 60_000);
  req.on('response', (res) => {
    clearTimeout(connectTimer);
    const status = res.statusCode ?? 0;
    if (status !== 200 || !String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => finish({ status, reason: 'http', detail: `HTTP ${status}`, text }));
      res.on('error', () => finish({ status, reason: 'http', detail: `HTTP ${status}`, text }));
      return;
    }
    options.onOpen?.();
    const parser = new SseParser();
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      const at = performance.now();
      for (const event of parser.push(chunk)) {
        if (settled) return;
        if (options.onEvent(event, at) === true) {
          finish({ status, reason: 'done', detail: '', text: '' });
          // On a kept-alive socket, read the stream to its end (the server ends it after `done`) so the
          // socket goes back to the client for its next request; a socket of its own simply goes.
          if (options.agent === undefined) req.destroy();
          else {
            res.resume();
            setTimeout(() => {
              if (!res.complete) res.destroy();
            }, 5_000).unref();
          }
          return;
        }
      }
    });
    res.on('end', () => finish({ status, reason: 'eof', detail: 'the server ended the stream', text: '' }));
    res.on('error', (error) => finish({ status, reason: 'network', detail: error.message, text: '' }));
  });
  req.on('error', (error) => {
    clearTimeout(connectTimer);
    const code = (error as { code?: string }).code ?? error.message;
    finish({ status: 0, reason: 'network', detail: `network ${code}`, text: '' });
  });
  req.end(payload);
  return {
    ended,
    close() {
      clearTimeout(connectTimer);
      finish({ status: 200, reason: 'closed', detail: '', text: '' });
      req.destroy();
    },
  };
}
