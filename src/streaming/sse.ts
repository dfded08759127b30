import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import { AppError } from '../errors/index.ts';
import { type EventId, isEventId } from './event-id.ts';
import { systemTimers, type TimerHandle, type Timers } from './timers.ts';

/** One server-sent event before framing. */
export interface SseEvent {
  /** Sets the client's last event id; must not contain CR, LF or NUL. */
  id?: string;
  /** Event type (`turn`, `delta`, `done`, `error`, ...); must not contain CR or LF. */
  event?: string;
  /** Payload; line breaks (LF, CRLF or CR) become separate `data:` lines and come back as LF. */
  data: string;
  /** Reconnection delay hint for the client, in milliseconds. */
  retry?: number;
}

/**
 * Response headers for an SSE stream. `no-transform` and `X-Accel-Buffering`
 * stop proxies from compressing or buffering events.
 */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
});

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * Frames one event in the `text/event-stream` format, ending with the blank
 * line that dispatches it.
 *
 * @throws TypeError when `id` or `event` contains a line break (or `id` a NUL),
 *   or `retry` is not a non-negative integer: such a frame would be misread.
 * @example
 * formatEvent({ id: '000000000008.000001', event: 'delta', data: '{"text":"Hi"}' });
 * // 'id: 000000000008.000001\nevent: delta\ndata: {"text":"Hi"}\n\n'
 */
export function formatEvent(event: SseEvent): string {
  let out = '';
  if (event.id !== undefined) {
    if (/[\r\n\0]/.test(event.id)) throw new TypeError('an SSE event id must not contain CR, LF or NUL');
    out += `id: ${event.id}\n`;
  }
  if (event.event !== undefined) {
    if (/[\r\n]/.test(event.event)) throw new TypeError('an SSE event name must not contain CR or LF');
    out += `event: ${event.event}\n`;
  }
  if (event.retry !== undefined) {
    if (!Number.isSafeInteger(event.retry) || event.retry < 0) {
      throw new TypeError('an SSE retry must be a non-negative integer of milliseconds');
    }
    out += `retry: ${event.retry}\n`;
  }
  for (const line of event.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/**
 * Frames a comment: ignored by clients, but it keeps proxies from closing an
 * idle stream and can carry human-readable status (e.g. a queue position).
 *
 * @example
 * formatComment('queue position 3'); // ': queue position 3\n\n'
 */
export function formatComment(text = ''): string {
  let out = '';
  for (const line of text.split(LINE_BREAK)) out += line === '' ? ':\n' : `: ${line}\n`;
  return `${out}\n`;
}

/** Options of {@link createHeartbeat}. */
export interface HeartbeatOptions {
  /** Writes a chunk to the stream. If it throws, the heartbeat stops. */
  send: (chunk: string) => void;
  /** Longest silence before a heartbeat comment is sent. Default 15 000 ms. */
  intervalMs?: number;
  /** Text of the heartbeat comment. Default `heartbeat`. */
  text?: string;
  clock?: Clock;
  timers?: Timers;
}

/** A running heartbeat; see {@link createHeartbeat}. */
export interface Heartbeat {
  /** Records that something else was just written, postponing the next heartbeat. */
  touch(): void;
  /** Stops the heartbeat; safe to call more than once. */
  stop(): void;
}

/**
 * Sends a comment whenever the stream has been silent for `intervalMs`.
 * Call `touch()` after every other write and `stop()` when the stream ends.
 * One timer per stream; `touch()` only records the time, so it is cheap on
 * the hot path.
 *
 * @example
 * const heartbeat = createHeartbeat({ send: (chunk) => reply.raw.write(chunk) });
 * reply.raw.on('close', () => heartbeat.stop());
 */
export function createHeartbeat(options: HeartbeatOptions): Heartbeat {
  const intervalMs = options.intervalMs ?? 15_000;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new TypeError('heartbeat intervalMs must be positive');
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const frame = formatComment(options.text ?? 'heartbeat');
  let lastWrite = clock.now();
  let handle: TimerHandle | undefined;
  let stopped = false;
  const arm = (delay: number) => {
    handle = timers.setTimeout(tick, delay);
  };
  function tick(): void {
    if (stopped) return;
    const idle = clock.now() - lastWrite;
    if (idle >= intervalMs) {
      try {
        options.send(frame);
      } catch {
        // The stream is gone (closed socket): stop quietly rather than throw from a timer.
        stopped = true;
        return;
      }
      lastWrite = clock.now();
      arm(intervalMs);
    } else {
      arm(intervalMs - idle);
    }
  }
  arm(intervalMs);
  return {
    touch() {
      lastWrite = clock.now();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (handle !== undefined) timers.clearTimeout(handle);
    },
  };
}

/**
 * Reads the resume point of a reconnecting client from the `Last-Event-ID`
 * header or the `lastEventId` query parameter (pass whichever is present,
 * header first). Absent or blank means "from the start" and gives `null`.
 *
 * @throws AppError `invalid_request` when the value is not an event id this
 *   server issues, or when several different values were sent.
 * @example
 * const afterId = parseLastEventId(request.headers['last-event-id'] ?? request.query.lastEventId);
 */
export function parseLastEventId(value: string | readonly string[] | null | undefined): EventId | null {
  if (value === null || value === undefined) return null;
  const values = (typeof value === 'string' ? [value] : [...value]).map((v) => v.trim()).filter((v) => v !== '');
  if (values.length === 0) return null;
  const distinct = new Set(values);
  if (distinct.size > 1) throw new AppError('invalid_request', 'Send one Last-Event-ID, not several');
  const id = values[0]!;
  if (!isEventId(id)) {
    throw new AppError('invalid_request', 'Last-Event-ID is not an event id issued by this server', {
      extras: { lastEventId: id.slice(0, 64) },
    });
  }
  return id;
}
