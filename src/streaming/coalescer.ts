import { systemTimers, type TimerHandle, type Timers } from './timers.ts';

/** Options of {@link createCoalescer}. */
export interface CoalescerOptions {
  /**
   * Receives each coalesced chunk, in order. Never called with an empty
   * string. Must not throw: it may run from a timer (catch a rejected append).
   */
  onFlush: (text: string) => void;
  /** Flush as soon as this many UTF-8 bytes are buffered. Default 1024. */
  maxBytes?: number;
  /** Flush this long after the first byte entered an empty buffer. Default 100 ms. */
  maxDelayMs?: number;
  /**
   * Send the first delta as soon as it arrives and coalesce only the rest: the reader sees the reply start at
   * the model's own pace, and later deltas still travel in few, larger events. Default false.
   */
  firstAtOnce?: boolean;
  timers?: Timers;
}

/** A running coalescer; see {@link createCoalescer}. */
export interface Coalescer {
  /** Adds a model delta. Empty strings are ignored. */
  push(delta: string): void;
  /** Flushes whatever is buffered now (e.g. before sending a non-delta event). */
  flush(): void;
  /** Flushes the rest and stops; `push` after `end` throws. Safe to call twice. */
  end(): void;
  /** UTF-8 bytes buffered and not yet flushed. */
  readonly bufferedBytes: number;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

/**
 * Merges small model deltas into fewer, larger SSE events (ADR-005): a chunk
 * is flushed when `maxBytes` UTF-8 bytes are buffered or `maxDelayMs` after
 * the first buffered byte, whichever comes first, and on `flush()`/`end()`.
 *
 * A flush never splits a character: chunks are whole strings, and a UTF-16
 * high surrogate at the end of the buffer (half of an emoji whose other half
 * is in the next delta) waits for its partner, except on `end()`.
 * Byte counts are UTF-8 lengths of the deltas as given.
 *
 * @example
 * const coalescer = createCoalescer({ onFlush: (text) => log.append(tenantId, conversationId, delta(text)) });
 * for await (const delta of provider.stream(prompt)) coalescer.push(delta);
 * coalescer.end();
 */
export function createCoalescer(options: CoalescerOptions): Coalescer {
  const maxBytes = options.maxBytes ?? 1024;
  const maxDelayMs = options.maxDelayMs ?? 100;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
    throw new TypeError('coalescer maxBytes must be a positive integer');
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < 0) throw new TypeError('coalescer maxDelayMs must be >= 0');
  const timers = options.timers ?? systemTimers;
  let parts: string[] = [];
  let bytes = 0;
  let timer: TimerHandle | undefined;
  let ended = false;
  let first = options.firstAtOnce === true;

  const cancelTimer = () => {
    if (timer === undefined) return;
    timers.clearTimeout(timer);
    timer = undefined;
  };

  const emit = (final: boolean) => {
    cancelTimer();
    if (parts.length === 0) return;
    let text = parts.join('');
    let held = '';
    if (!final && isHighSurrogate(text.charCodeAt(text.length - 1))) {
      held = text.slice(-1);
      text = text.slice(0, -1);
    }
    parts = held === '' ? [] : [held];
    bytes = held === '' ? 0 : 3; // a lone surrogate would encode as U+FFFD, 3 bytes
    if (text !== '') options.onFlush(text);
  };

  function onTimer(): void {
    timer = undefined;
    emit(false);
  }

  return {
    push(delta) {
      if (ended) throw new TypeError('coalescer.push() after end()');
      if (delta === '') return;
      parts.push(delta);
      bytes += Buffer.byteLength(delta, 'utf8');
      if (first || bytes >= maxBytes) {
        first = false;
        emit(false);
      } else if (timer === undefined) timer = timers.setTimeout(onTimer, maxDelayMs);
    },
    flush() {
      emit(false);
    },
    end() {
      if (ended) return;
      ended = true;
      emit(true);
    },
    get bufferedBytes() {
      return bytes;
    },
  };
}
