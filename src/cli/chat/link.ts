import { backoffDelay, sleep } from '../../client/backoff.ts';
import { isAbortError } from '../../client/errors.ts';
import { type BackoffOptions, ContinuumError, type FetchLike } from '../../client/index.ts';

/** Pacing of the chat's retries while the server is away: 0.5 s doubling to 5 s (one user waits, not a fleet), half random. */
export const CHAT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 5000 };

/** Statuses that mean "the server is not there right now": a proxy's, or a stopping server's. */
const AWAY_STATUSES = new Set([502, 503, 504]);

/** Options of {@link LinkMonitor}. */
export interface LinkMonitorOptions {
  /** The server's base URL, named in the notices. */
  url: string;
  /** Told once when the server cannot be reached, and once when it answers again. */
  onDown(reason: string): void;
  onUp(): void;
  /** Default the global `fetch`. */
  fetch?: FetchLike;
  now?: () => number;
}

/**
 * Whether the server answers, seen from every request the chat makes: its
 * {@link LinkMonitor.fetch} goes to the SDK, so the token manager's requests,
 * appends, stream resumes and reads all count. The first failure of an
 * outage is reported once; the first answer after it, once.
 */
export class LinkMonitor {
  #up = true;
  #upSince: number;
  readonly #o: LinkMonitorOptions;
  readonly #now: () => number;
  readonly #fetch: FetchLike;

  constructor(options: LinkMonitorOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#upSince = this.#now();
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** True unless the last request found the server away. */
  get up(): boolean {
    return this.#up;
  }

  /** When the server last came back (or when the chat started). */
  get upSince(): number {
    return this.#upSince;
  }

  /** The `fetch` to give the SDK. */
  readonly fetch: FetchLike = async (input, init) => {
    let response: Response;
    try {
      response = await this.#fetch(input, init);
    } catch (error) {
      if (!isAbortError(error) && init?.signal?.aborted !== true) this.#down(reasonOf(error));
      throw error;
    }
    if (AWAY_STATUSES.has(response.status)) this.#down(`HTTP ${response.status}`);
    else this.#markUp();
    return response;
  };

  #down(reason: string): void {
    if (!this.#up) return;
    this.#up = false;
    this.#o.onDown(reason);
  }

  #markUp(): void {
    if (this.#up) return;
    this.#up = true;
    this.#upSince = this.#now();
    this.#o.onUp();
  }
}

/**
 * Failures that pass when the server is back: no answer, a proxy's or a
 * stopping server's 5xx page, an unavailable store, a rate limit. A refusal
 * (`404`, `409`, a bad request) or a server bug (`500 internal`) does not.
 */
export function isPassing(error: unknown): boolean {
  if (!(error instanceof ContinuumError)) return false;
  switch (error.code) {
    case 'network_error':
    case 'store_unavailable':
    case 'rate_limited':
    case 'session_limit':
      return true;
    case 'unexpected_response':
      return error.status === 0 || error.status >= 500;
    default:
      return false;
  }
}

/**
 * Calls `fn` until it succeeds or fails for good: a passing failure
 * ({@link isPassing}) is retried with backoff (or after the server's
 * `Retry-After`), for as long as it takes; `signal` stops the waiting.
 */
export async function persist<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      if (signal?.aborted || !isPassing(error)) throw error;
      const retryAfter = (error as ContinuumError).retryAfter;
      await sleep(retryAfter === undefined ? backoffDelay(attempt, CHAT_BACKOFF) : retryAfter * 1000, signal);
    }
  }
}

/** `connect ECONNREFUSED 127.0.0.1:8080` rather than fetch's bare "fetch failed". */
function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.message === 'string' && cause.message !== '') return cause.message;
  if (cause && typeof cause.code === 'string') return cause.code;
  return error instanceof Error ? error.message : String(error);
}
