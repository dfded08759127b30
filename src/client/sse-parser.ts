/**
 * A `text/event-stream` parser (the WHATWG HTML "event stream
 * interpretation"), fed with decoded text in chunks of any size: a line,
 * or a CRLF, may be split across chunks.
 */

/** One dispatched event. */
export interface SseMessage {
  /** The last event id set so far (the `id` a reconnect resumes after); `''` when none was set. */
  id: string;
  /** The `event` field, `message` when absent. */
  event: string;
  /** The `data` lines joined with LF. */
  data: string;
}

/** Hooks for the fields that are not events. */
export interface SseParserHooks {
  /** A comment line (`: text`), e.g. a heartbeat or a queue position. */
  onComment?: (text: string) => void;
  /** A valid `retry` field: the server's reconnection delay, ms. */
  onRetry?: (ms: number) => void;
}

/**
 * Incremental SSE parser.
 *
 * @example
 * const parser = new SseParser();
 * parser.push('id: 1\nevent: delta\nda'); // []
 * parser.push('ta: {"text":"Hi"}\n\n'); // [{ id: '1', event: 'delta', data: '{"text":"Hi"}' }]
 */
export class SseParser {
  readonly #hooks: SseParserHooks;
  #buffer = '';
  /** A chunk ended with CR: a LF at the start of the next one belongs to it. */
  #skipLf = false;
  #data: string[] = [];
  #event = '';
  #lastId = '';
  #started = false;

  constructor(hooks: SseParserHooks = {}) {
    this.#hooks = hooks;
  }

  /** The last event id seen (also set by an `id` field of an event not yet dispatched). */
  get lastEventId(): string {
    return this.#lastId;
  }

  /** Feeds decoded text; returns the events it completed, in order. */
  push(chunk: string): SseMessage[] {
    let text = chunk;
    if (!this.#started) {
      this.#started = true;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    if (this.#skipLf && text.startsWith('\n')) text = text.slice(1);
    this.#skipLf = false;
    const buffer = this.#buffer + text;
    const out: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < buffer.length; i += 1) {
      const c = buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = buffer.slice(start, i);
      if (c === 13) {
        if (i + 1 < buffer.length) {
          if (buffer.charCodeAt(i + 1) === 10) i += 1;
        } else {
          this.#skipLf = true;
        }
      }
      start = i + 1;
      this.#line(line, out);
    }
    this.#buffer = buffer.slice(start);
    return out;
  }

  #line(line: string, out: SseMessage[]): void {
    if (line === '') {
      if (this.#data.length > 0)
        out.push({ id: this.#lastId, event: this.#event || 'message', data: this.#data.join('\n') });
      this.#data = [];
      this.#event = '';
      return;
    }
    if (line.startsWith(':')) {
      this.#hooks.onComment?.(line.slice(line.startsWith(': ') ? 2 : 1));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.#data.push(value);
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#hooks.onRetry?.(Number(value));
        break;
      default:
      // Unknown fields are ignored, as the standard says.
    }
  }
}
