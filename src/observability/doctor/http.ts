/** A response of the deployment under check. */
export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** One server-sent event. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** What a check failed on; its message is what `continuum doctor` prints. */
export class CheckFailure extends Error {
  override readonly name = 'CheckFailure';
}

/** `POST /x answered 503 store_unavailable: The store failed during appendTurn` */
export function describeAnswer(method: string, route: string, answer: Answer): string {
  const body = answer.body as { code?: unknown; detail?: unknown } | undefined;
  const code = typeof body?.code === 'string' ? ` ${body.code}` : '';
  const detail = typeof body?.detail === 'string' ? `: ${body.detail}` : '';
  return `${method} ${shown(route)} answered ${answer.status}${code}${detail}`;
}

/**
 * The few HTTP calls `continuum doctor` makes against a deployment, each
 * bounded by a timeout, with paths shown without their conversation ids.
 */
export class DoctorHttp {
  readonly #base: string;
  readonly #timeoutMs: number;

  constructor(baseUrl: string, timeoutMs: number) {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('--url must be http: or https:');
    this.#base = url.href.replace(/\/+$/, '');
    this.#timeoutMs = timeoutMs;
  }

  get base(): string {
    return this.#base;
  }

  /** A JSON request; any status is returned (the check decides), a network failure throws `CheckFailure`. */
  async json<T = unknown>(
    method: string,
    route: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer<T>> {
    const res = await this.#fetch(method, route, {
      method,
      headers: {
        accept: 'application/json',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON: the check reports the status.
    }
    return { status: res.status, headers: res.headers, body: body as T };
  }

  /**
   * POST and read the answer as an event stream until it ends, calling
   * `onEvent` for each event; resolves with the status and every event.
   */
  async sse(
    route: string,
    options: { token: string; body: unknown; onEvent?: (event: SseEvent) => void },
  ): Promise<{ status: number; events: SseEvent[]; body?: unknown }> {
    const res = await this.#fetch('POST', route, {
      method: 'POST',
      headers: {
        accept: 'text/event-stream',
        'content-type': 'application/json',
        authorization: `Bearer ${options.token}`,
      },
      body: JSON.stringify(options.body),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream') || res.body === null) {
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Kept as text.
      }
      return { status: res.status, events: [], body };
    }
    const events: SseEvent[] = [];
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true }).replaceAll('\r\n', '\n');
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const event = parseEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          if (event === undefined) continue;
          events.push(event);
          options.onEvent?.(event);
        }
      }
    } catch (error) {
      throw new CheckFailure(`the event stream of POST ${shown(route)} broke off: ${reason(error)}`);
    }
    return { status: res.status, events };
  }

  async #fetch(method: string, route: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.#base}${route}`, init);
    } catch (error) {
      throw new CheckFailure(`${method} ${shown(route)} got no answer from ${this.#base}: ${reason(error)}`);
    }
  }
}

/** A route with conversation ids masked, for messages. */
export function shown(route: string): string {
  return route.split('?')[0]!.replace(/cnv_[a-z2-7]+/g, '{id}');
}

function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'timed out';
  return error.cause instanceof Error ? error.cause.message : error.message;
}

function parseEvent(block: string): SseEvent | undefined {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (data.length === 0) return undefined;
  return { event, data: data.join('\n'), ...(id === undefined ? {} : { id }) };
}
