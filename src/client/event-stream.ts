import { type BackoffOptions, backoffDelay, sleep } from './backoff.ts';
import { ContinuumError, isAbortError, networkError } from './errors.ts';
import { SseParser } from './sse-parser.ts';
import type { ClientStats } from './stats.ts';
import type { ConversationEvent } from './types.ts';

/** What to do with an event: deliver it, pass over it, or deliver it and end the stream. */
export type Verdict = 'yield' | 'skip' | 'last';

/** Tuning shared by every resumable stream. */
export interface StreamOptions {
  /** Stops the stream: the iterator rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * A connection silent for this long (no event, no heartbeat comment; the
   * server sends one every 15 s) is treated as dropped and reopened.
   * Default 45 000 ms; 0 turns the watchdog off.
   */
  idleTimeoutMs?: number;
  /** Reconnect attempts in a row without receiving anything before giving up. */
  maxReconnects?: number;
  backoff?: BackoffOptions;
}

/** How a resumable stream opens its connections and chooses its events. */
export interface ResumableSpec extends StreamOptions {
  /**
   * Opens a connection that resumes after `lastEventId` (`undefined` before
   * the first event). Resolves with an SSE response, or `null` when there is
   * nothing (more) to read.
   */
  connect(lastEventId: string | undefined, signal: AbortSignal): Promise<Response | null>;
  filter?(event: ConversationEvent): Verdict;
  onComment?(text: string): void;
  /** Resume after this id on the first connection. */
  after?: string;
  stats: ClientStats;
}

/** Ids remembered to drop a duplicate whatever a server replays. */
const SEEN_LIMIT = 1024;

/**
 * Events of one logical SSE stream over as many connections as it takes:
 * when a connection drops (an error, an early end, or silence past the
 * watchdog), it reconnects with backoff and resumes after the last event id
 * it saw, so every event arrives once, in order. Statuses that cannot pass
 * (a `404`, a `400`) end it with a {@link ContinuumError}.
 */
export async function* resumableEvents(spec: ResumableSpec): AsyncGenerator<ConversationEvent, void, undefined> {
  const { signal, stats } = spec;
  const idleMs = spec.idleTimeoutMs ?? 45_000;
  const maxReconnects = spec.maxReconnects ?? Number.POSITIVE_INFINITY;
  let last = spec.after;
  let failures = 0;
  let retryMs: number | undefined;
  const seen = new Set<string>();
  for (;;) {
    if (signal?.aborted) throw signal.reason;
    const connection = new AbortController();
    const abort = () => connection.abort(signal?.reason);
    signal?.addEventListener('abort', abort, { once: true });
    let received = false;
    let failure: unknown;
    // Silence, from the request on, past the watchdog's limit ends this connection.
    const watchdog = createWatchdog(connection, idleMs);
    try {
      const response = await spec.connect(last, connection.signal);
      if (response === null) return;
      const parser = new SseParser({
        ...(spec.onComment ? { onComment: spec.onComment } : {}),
        onRetry: (ms) => {
          retryMs = ms;
        },
      });
      for await (const message of readMessages(response, parser, watchdog)) {
        received = true;
        if (message.id !== '') {
          if (seen.has(message.id)) continue;
          seen.add(message.id);
          if (seen.size > SEEN_LIMIT) seen.delete(seen.values().next().value as string);
          last = message.id;
        }
        const event = toEvent(message.id, message.event, message.data);
        const verdict = spec.filter ? spec.filter(event) : 'yield';
        if (verdict !== 'skip') yield event;
        if (verdict === 'last') return;
      }
      // The server ended the response early (a restart, a deploy): resume, maybe on another node.
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!isPassing(error)) throw error;
      failure = error;
    } finally {
      watchdog.stop();
      signal?.removeEventListener('abort', abort);
      connection.abort();
    }
    failures = received ? 1 : failures + 1;
    if (failures > maxReconnects) {
      if (failure instanceof ContinuumError) throw failure;
      throw failure === undefined
        ? new ContinuumError({ code: 'network_error', status: 0, detail: 'The event stream kept ending early' })
        : networkError(failure, 'event stream');
    }
    stats.reconnects += 1;
    const wait = retryAfterMs(failure) ?? (received ? (retryMs ?? 0) : backoffDelay(failures, spec.backoff));
    await sleep(wait, signal);
  }
}

/** Aborts `connection` when `idleMs` pass without a `kick()`; armed at once. */
function createWatchdog(connection: AbortController, idleMs: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const kick = () => {
    if (idleMs <= 0) return;
    clearTimeout(timer);
    timer = setTimeout(
      () =>
        connection.abort(
          new ContinuumError({ code: 'network_error', status: 0, detail: `Nothing received for ${idleMs} ms` }),
        ),
      idleMs,
    );
  };
  kick();
  return { kick, stop: () => clearTimeout(timer) };
}

/** Reads `response` as SSE, kicking the watchdog on every chunk. */
async function* readMessages(response: Response, parser: SseParser, watchdog: { kick(): void }) {
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  watchdog.kick();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      watchdog.kick();
      yield* parser.push(value);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** Failures worth another connection: no answer, a cut stream, a 5xx that may pass, a rate limit. */
function isPassing(error: unknown): boolean {
  if (!(error instanceof ContinuumError)) return error instanceof TypeError || isAbortError(error);
  switch (error.code) {
    case 'network_error':
    case 'internal':
    case 'store_unavailable':
    case 'rate_limited':
    case 'session_limit':
      return true;
    case 'unexpected_response':
      return error.status >= 500 || error.status === 0;
    default:
      return false;
  }
}

/** The wait a passing error asks for (`Retry-After`), in ms. */
function retryAfterMs(error: unknown): number | undefined {
  return error instanceof ContinuumError && error.retryAfter !== undefined ? error.retryAfter * 1000 : undefined;
}

function toEvent(id: string, event: string, data: string): ConversationEvent {
  let parsed: unknown = data;
  try {
    parsed = JSON.parse(data);
  } catch {
    // Not JSON: delivered as the text it is.
  }
  return { id, event, data: parsed } as ConversationEvent;
}
