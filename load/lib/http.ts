/**
 * The load generator's HTTP client: `node:http` over one keep-alive agent with
 * no socket cap (fetch costs more CPU per request, and the generator shares
 * the machine with the servers it measures). A call never throws: a network
 * failure or a timeout comes back as status 0 with a `failure` label.
 */
import http, { type IncomingHttpHeaders } from 'node:http';

/** Sockets are reused between requests of all simulated clients; none is refused for lack of a slot. */
export const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, maxFreeSockets: 2048 });

export interface CallOptions {
  method?: string;
  /** Bearer token. */
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Default 120 s. */
  timeoutMs?: number;
  /** Keep-alive sockets to use; default the generator's shared {@link agent}. */
  agent?: http.Agent;
}

export interface CallResult<T = Record<string, unknown>> {
  /** 0 when no response arrived (`failure` says why). */
  status: number;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (an empty object when there is none or it is not JSON). */
  body: T;
  /** The raw body text. */
  text: string;
  /** Wall time of the call, in ms. */
  ms: number;
  /** `network ECONNRESET`, `timeout`: set when status is 0. */
  failure?: string;
}

/** Requests sent again because the kept-alive socket they went out on had just been closed by the server. */
export const staleSockets = { retried: 0 };

/**
 * One request; resolves with the whole body read. A request that fails with
 * a reset on a kept-alive socket (the server closed it, idle, as the request
 * went out: it never reached a handler) is sent once more on a fresh socket,
 * as Node's documentation advises; {@link staleSockets} counts them.
 */
export async function call<T = Record<string, unknown>>(
  url: string,
  options: CallOptions = {},
): Promise<CallResult<T>> {
  const first = await send<T>(url, options);
  if (first.failure === undefined || !first.failure.endsWith('(reused socket)')) return first;
  staleSockets.retried++;
  const again = await send<T>(url, options);
  return { ...again, ms: first.ms + again.ms };
}

function send<T>(url: string, options: CallOptions): Promise<CallResult<T>> {
  const started = performance.now();
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  const headers: Record<string, string> = { ...options.headers };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: Omit<CallResult<T>, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...result, ms: performance.now() - started });
    };
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers, agent: options.agent ?? agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          done({ status: res.statusCode ?? 0, headers: res.headers, body: parseJson<T>(text), text });
        });
        res.on('error', (error) => done(failed<T>(`network ${codeOf(error)}`)));
      },
    );
    req.setTimeout(options.timeoutMs ?? 120_000, () => {
      done(failed<T>('timeout'));
      req.destroy();
    });
    // A reset on a kept-alive socket that the server had just closed is a different story from one on a fresh socket.
    req.on('error', (error) =>
      done(failed<T>(`network ${codeOf(error)}${req.reusedSocket ? ' (reused socket)' : ''}`)),
    );
    req.end(payload);
  });
}

/** A label for counting outcomes: `201`, `409 turn_conflict`, `network ECONNREFUSED`, `timeout`. */
export function outcomeOf(result: Pick<CallResult<unknown>, 'status' | 'body' | 'failure'>): string {
  if (result.status === 0) return result.failure ?? 'network';
  const code = (result.body as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && result.status >= 400 ? `${result.status} ${code}` : String(result.status);
}

/** The JSON of a body, or an empty object when it is empty or not JSON. */
export function parseJson<T>(text: string): T {
  if (text === '') return {} as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    return {} as T;
  }
}

function failed<T>(failure: string): Omit<CallResult<T>, 'ms'> {
  return { status: 0, headers: {}, body: {} as T, text: '', failure };
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}
