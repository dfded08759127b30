import { type BackoffOptions, backoffDelay, sleep } from './backoff.ts';
import { ContinuumError, errorFromResponse, isAbortError, networkError } from './errors.ts';
import type { ClientStats } from './stats.ts';
import type { TokenManager } from './token-manager.ts';
import type { FetchLike } from './types.ts';

/** One API request. */
export interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Default `application/json`. */
  accept?: string;
  signal?: AbortSignal;
  /**
   * Safe to send again when no answer came back (reads, and appends, which
   * carry an idempotency key). Others fail at once with `network_error`.
   */
  retryable?: boolean;
}

/** Options of {@link Transport}. */
export interface TransportOptions {
  baseUrl: string;
  tokens: TokenManager;
  stats: ClientStats;
  fetch?: FetchLike;
  /** Retries of a retryable request after a network failure (default 2). */
  networkRetries?: number;
  backoff?: BackoffOptions;
}

/**
 * Sends API requests with the token manager's access token. A `401
 * token_expired` or `token_invalid` renews the token and sends the request
 * once more with the same body and headers (an append keeps its
 * `Idempotency-Key`, so it is never written twice); any other error status
 * becomes a {@link ContinuumError}.
 */
export class Transport {
  readonly baseUrl: string;
  readonly #o: TransportOptions;
  readonly #fetch: FetchLike;

  constructor(options: TransportOptions) {
    this.#o = options;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** The absolute URL of `path` with `query` (undefined values left out). */
  url(path: string, query?: RequestSpec['query']): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) params.set(name, String(value));
    const search = params.toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ''}`;
  }

  /**
   * Sends `spec` and resolves with the `2xx` response, body unread.
   *
   * @throws ContinuumError for any other status, or `network_error` without an answer.
   */
  async send(spec: RequestSpec): Promise<Response> {
    const tokens = this.#o.tokens;
    const stats = this.#o.stats;
    const url = this.url(spec.path, spec.query);
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    let token = await tokens.accessToken();
    let renewed = false;
    let failures = 0;
    for (;;) {
      let response: Response;
      stats.requests += 1;
      try {
        response = await this.#fetch(url, {
          method: spec.method,
          headers: {
            accept: spec.accept ?? 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...spec.headers,
            authorization: `Bearer ${token}`,
          },
          ...(body === undefined ? {} : { body }),
          ...(spec.signal ? { signal: spec.signal } : {}),
        });
      } catch (error) {
        if (isAbortError(error) || spec.signal?.aborted) throw error;
        if (!spec.retryable || failures >= (this.#o.networkRetries ?? 2)) {
          throw networkError(error, `${spec.method} ${spec.path}`);
        }
        failures += 1;
        stats.networkRetries += 1;
        await sleep(backoffDelay(failures, this.#o.backoff), spec.signal);
        continue;
      }
      if (response.ok) return response;
      const error = await errorFromResponse(response);
      if (!renewed && error.status === 401 && (error.code === 'token_expired' || error.code === 'token_invalid')) {
        renewed = true;
        stats.retriesAfter401 += 1;
        token = await tokens.renew(token);
        continue;
      }
      throw error;
    }
  }

  /** {@link send}, then the JSON body. */
  async json<T>(spec: RequestSpec): Promise<{ value: T; response: Response }> {
    const response = await this.send(spec);
    const text = await response.text();
    try {
      return { value: JSON.parse(text) as T, response };
    } catch (cause) {
      throw new ContinuumError({
        code: 'unexpected_response',
        status: response.status,
        detail: `${spec.method} ${spec.path} answered ${response.status} with a body that is not JSON`,
        cause,
      });
    }
  }
}
