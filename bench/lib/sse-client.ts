/**
 * The client side of a streamed reply (`POST …/turns` with `respond: true`
 * and `Accept: text/event-stream`) for the benchmarks: fetch (or `node:http`),
 * the body parsed event by event as it arrives, with the moment each
 * milestone was seen.
 */
import http from 'node:http';

/** One server-sent event as the client received it. */
export interface ReceivedEvent {
  id: string;
  event: string;
  data: string;
}

/** Why a reply did not complete; `event_error` carries the problem's code. */
export type ReplyFailure =
  | { kind: 'http'; status: number; detail: string }
  | { kind: 'network'; detail: string }
  | { kind: 'timeout'; detail: string }
  | { kind: 'event_error'; code: string; detail: string }
  | { kind: 'no_done'; detail: string }
  | { kind: 'mismatch'; detail: string };

/** `performance.now()` at each milestone of one streamed reply. */
export interface StreamedReply {
  sentAt: number;
  /** Response headers received. */
  headersAt?: number;
  /** `event: turn` (the stored user turn) received. */
  turnAt?: number;
  /** First `event: delta` received. */
  firstDeltaAt?: number;
  /** `event: done` received. */
  doneAt?: number;
  /** The deltas, joined. */
  text: string;
  deltas: number;
  /** The stored reply's turn number (from `done`). */
  replyTurn?: number;
  failure?: ReplyFailure;
}

export interface PostReplyOptions {
  baseUrl: string;
  token: string;
  conversationId: string;
  content: string;
  expectedTurn: number;
  /** Ends the request (counted as a timeout). */
  signal?: AbortSignal;
  /** Called once the response headers are in (the stream is open). */
  onOpen?: () => void;
  /** Called with every event, in order. */
  onEvent?: (event: ReceivedEvent, at: number) => void;
  /**
   * `fetch` (default) or `http`: `node:http` with a keep-alive agent, a lighter client for timing the server
   * rather than the client (after an idle pause, a loopback round trip costs fetch about half a millisecond more).
   */
  client?: 'fetch' | 'http';
}

/** A response as {@link postReply} reads it, whichever client sent the request. */
interface OpenResponse {
  status: number;
  contentType: string | undefined;
  body: AsyncIterable<Uint8Array>;
  text(): Promise<string>;
}

const keepAlive = new http.Agent({ keepAlive: true });

/** POST `body` to `url` with the client `options.client` names; resolves once the response headers are in. */
async function send(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: PostReplyOptions,
): Promise<OpenResponse> {
  const signal = options.signal ? { signal: options.signal } : {};
  if (options.client !== 'http') {
    const response = await fetch(url, { method: 'POST', headers, body, ...signal });
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? undefined,
      body: response.body ?? (async function* () {})(),
      text: () => response.text(),
    };
  }
  const payload = Buffer.from(body);
  return new Promise<OpenResponse>((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      agent: keepAlive,
      headers: { ...headers, 'content-length': String(payload.length) },
      ...signal,
    });
    request.on('error', reject);
    request.on('response', (response) => {
      resolve({
        status: response.statusCode ?? 0,
        contentType: response.headers['content-type'],
        // Leaving the body early (after `done`) drains the rest instead of destroying the socket: it stays pooled.
        body: {
          [Symbol.asyncIterator]: () => {
            const chunks = response.iterator({ destroyOnReturn: false });
            return {
              next: () => chunks.next(),
              return: async () => {
                await chunks.return?.();
                response.resume();
                return { done: true, value: undefined };
              },
            };
          },
        },
        text: async () => {
          const chunks: Buffer[] = [];
          for await (const chunk of response) chunks.push(chunk as Buffer);
          return Buffer.concat(chunks).toString('utf8');
        },
      });
    });
    // Headers and body leave in one write.
    request.end(payload);
  });
}

/**
 * Send one user turn with `respond: true` over SSE and read the reply to its
 * end. Never throws: a failure is reported in `failure`. The reply stored
 * (the `done` event's turn) must equal the concatenated deltas, else the
 * failure is a `mismatch`.
 */
export async function postReply(options: PostReplyOptions): Promise<StreamedReply> {
  const out: StreamedReply = { sentAt: performance.now(), text: '', deltas: 0 };
  let response: OpenResponse;
  try {
    response = await send(
      `${options.baseUrl}/v1/conversations/${options.conversationId}/turns`,
      {
        authorization: `Bearer ${options.token}`,
        'content-type': 'application/json',
        accept: 'text/event-stream',
      },
      JSON.stringify({ role: 'user', content: options.content, expectedTurn: options.expectedTurn, respond: true }),
      options,
    );
  } catch (error) {
    out.failure = failureOf(error, options.signal);
    return out;
  }
  out.headersAt = performance.now();
  if (response.status !== 200 || !response.contentType?.startsWith('text/event-stream')) {
    const body = await response.text().catch(() => '');
    out.failure = { kind: 'http', status: response.status, detail: body.slice(0, 300) };
    return out;
  }
  options.onOpen?.();
  try {
    for await (const event of readEvents(response.body)) {
      const at = performance.now();
      options.onEvent?.(event, at);
      if (event.event === 'turn') out.turnAt ??= at;
      else if (event.event === 'delta') {
        out.firstDeltaAt ??= at;
        out.deltas++;
        out.text += (JSON.parse(event.data) as { text: string }).text;
      } else if (event.event === 'done') {
        out.doneAt = at;
        const reply = JSON.parse(event.data) as { number: number; content: string };
        out.replyTurn = reply.number;
        if (reply.content !== out.text) {
          out.failure = {
            kind: 'mismatch',
            detail: `stored reply has ${reply.content.length} chars, the deltas ${out.text.length}`,
          };
        }
        return out;
      } else if (event.event === 'error') {
        const problem = JSON.parse(event.data) as { code?: string; detail?: string };
        out.failure = { kind: 'event_error', code: problem.code ?? 'unknown', detail: problem.detail ?? event.data };
        return out;
      }
    }
    out.failure = { kind: 'no_done', detail: 'the stream ended without event: done' };
  } catch (error) {
    out.failure = failureOf(error, options.signal);
  }
  return out;
}

function failureOf(error: unknown, signal: AbortSignal | undefined): ReplyFailure {
  const detail = error instanceof Error ? `${error.message}${causeOf(error)}` : String(error);
  return signal?.aborted ? { kind: 'timeout', detail } : { kind: 'network', detail };
}

function causeOf(error: Error): string {
  const cause = error.cause;
  return cause instanceof Error ? ` (${cause.message})` : '';
}

/** A short label for counting failures by kind. */
export function failureLabel(failure: ReplyFailure): string {
  switch (failure.kind) {
    case 'http':
      return `HTTP ${failure.status}`;
    case 'event_error':
      return `event: error (${failure.code})`;
    default:
      return failure.kind;
  }
}

/** The events of a `text/event-stream` body, as they arrive; comments (heartbeats, queue positions) skipped. */
export async function* readEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ReceivedEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const event: ReceivedEvent = { id: '', event: 'message', data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) event.id = line.slice(4);
        else if (line.startsWith('event: ')) event.event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length === 0) continue;
      event.data = data.join('\n');
      yield event;
    }
  }
}
