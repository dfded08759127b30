import { ContinuumError, errorFromResponse, isContinuumError, networkError } from './errors.ts';
import { type ClientStats, createStats } from './stats.ts';
import type { Clock, FetchLike, Scope, TokenResponse } from './types.ts';

/**
 * When to refresh, in seconds after the token response arrived: a number,
 * or a function of the token's `expires_in`.
 */
export type RefreshAt = number | ((expiresInSeconds: number) => number);

/** Options of {@link TokenManager}. */
export interface TokenManagerOptions {
  /** The server's base URL, e.g. `https://continuum.example.org`. */
  baseUrl: string;
  /** The tenant's API key (`ck.tnt_….…`). */
  apiKey: string;
  /** Who the tokens speak for, e.g. `patient-42`. */
  subject: string;
  /** Default `conversations`. */
  scope?: Scope;
  /** Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Where "now" comes from (default `Date.now`); refreshes are timed from it and `expires_in`. */
  clock?: Clock;
  /**
   * Default: `expires_in − 300` s, i.e. 25 minutes for the default 30-minute
   * token (`docs/SESSIONS.md`), and never later than ⅚ of the lifetime.
   */
  refreshAt?: RefreshAt;
  /** Counters to add to (the client's); default a fresh set. */
  stats?: ClientStats;
  /**
   * Called when a refresh was refused and the manager signed in again with
   * the API key. `refresh_reused` that this client did not cause may mean a
   * stolen refresh token: tell the user or the operator.
   */
  onRefreshRejected?: (error: ContinuumError) => void;
}

interface TokenState {
  access: string;
  refresh: string;
  scope: Scope;
  /** Clock times, ms. */
  refreshDueAt: number;
  expiresAt: number;
  refreshExpiresAt: number;
}

/**
 * `expires_in − 300`, but at most ⅚ of the lifetime; a token too short to
 * leave 300 s (5 minutes or less) refreshes at ⅚ of its lifetime too (a 60 s
 * token at 50 s), rather than before every request.
 */
export const defaultRefreshAt = (expiresIn: number): number => {
  const sixth = (expiresIn * 5) / 6;
  return expiresIn > 300 ? Math.min(expiresIn - 300, sixth) : sixth;
};

/**
 * The access token of one subject, kept fresh (ADR-001, `docs/SESSIONS.md`):
 *
 * - caches the token and refreshes it proactively at 25 minutes (timed from
 *   `expires_in` and the moment the answer arrived, never from `exp` against
 *   the device's clock);
 * - single flight: however many callers need a token at once, one token
 *   request is in flight and they all share its answer;
 * - rotates the refresh token on every refresh, so none is ever presented twice;
 * - when a refresh is refused (`invalid_grant`, `refresh_reused`), signs in
 *   again with the API key, once (no loops);
 * - if a refresh fails for a passing reason (network, 5xx) while the cached
 *   token is still valid, keeps using it and tries again on the next call.
 *
 * @example
 * const tokens = new TokenManager({ baseUrl, apiKey, subject: 'patient-42' });
 * const res = await fetch(`${baseUrl}/v1/conversations`, {
 *   headers: { authorization: `Bearer ${await tokens.accessToken()}` },
 * });
 */
export class TokenManager {
  /** The counters (token requests, sign-ins, refreshes). */
  readonly stats: ClientStats;
  readonly #o: TokenManagerOptions;
  readonly #fetch: FetchLike;
  readonly #clock: Clock;
  #state: TokenState | null = null;
  #inflight: Promise<TokenState> | null = null;

  constructor(options: TokenManagerOptions) {
    if (!options.baseUrl) throw new TypeError('TokenManager needs baseUrl');
    if (!options.apiKey) throw new TypeError('TokenManager needs apiKey');
    if (!options.subject) throw new TypeError('TokenManager needs subject');
    this.#o = options;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.stats = options.stats ?? createStats();
  }

  /** Clock time (ms) at which the cached token is due for refresh; `undefined` before the first sign-in. */
  get refreshDueAt(): number | undefined {
    return this.#state?.refreshDueAt;
  }

  /** Clock time (ms) at which the cached access token expires. */
  get expiresAt(): number | undefined {
    return this.#state?.expiresAt;
  }

  /** The scope the server granted (after the first sign-in). */
  get scope(): Scope | undefined {
    return this.#state?.scope;
  }

  /**
   * A valid access token: the cached one until it is due, else a fresh one
   * (one token request, shared by every concurrent caller).
   *
   * @throws ContinuumError `invalid_grant` when the API key is refused; `network_error` when
   *   the server cannot be reached and no cached token is still valid.
   */
  async accessToken(): Promise<string> {
    const state = this.#state;
    if (state && this.#clock.now() < state.refreshDueAt) return state.access;
    try {
      return (await this.#update()).access;
    } catch (error) {
      // A passing failure at the refresh point costs nothing while the token still lives.
      if (state && this.#state === state && this.#clock.now() < state.expiresAt && isTransient(error)) {
        return state.access;
      }
      throw error;
    }
  }

  /**
   * A replacement for `rejected`, which the server answered with `401`
   * (`token_expired`, `token_invalid`). If another caller already replaced
   * it, that token is returned without a new request.
   */
  async renew(rejected: string): Promise<string> {
    const state = this.#state;
    if (this.#inflight) return (await this.#inflight).access;
    if (state && state.access !== rejected) return state.access;
    if (state) state.refreshDueAt = Number.NEGATIVE_INFINITY;
    return (await this.#update()).access;
  }

  /** Forget the cached pair without telling the server (the next call signs in again). */
  reset(): void {
    this.#state = null;
  }

  /** Sign out: revoke the refresh token's family on the server (`POST /v1/auth/revoke`) and forget the pair. */
  async signOut(): Promise<void> {
    const state = this.#state;
    this.#state = null;
    if (!state) return;
    const response = await this.#post('/v1/auth/revoke', { token: state.refresh });
    if (!response.ok) throw await errorFromResponse(response);
  }

  #update(): Promise<TokenState> {
    this.#inflight ??= this.#obtain().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #obtain(): Promise<TokenState> {
    const state = this.#state;
    if (state && this.#clock.now() < state.refreshExpiresAt) {
      try {
        const fresh = await this.#grant({ grant_type: 'refresh_token', refresh_token: state.refresh });
        this.stats.refreshes += 1;
        return fresh;
      } catch (error) {
        if (!isContinuumError(error, 'invalid_grant', 'refresh_reused')) throw error;
        this.stats.refreshFailures += 1;
        this.#state = null;
        this.#o.onRefreshRejected?.(error);
      }
    }
    this.stats.signIns += 1;
    return this.#grant({
      grant_type: 'api_key',
      api_key: this.#o.apiKey,
      subject: this.#o.subject,
      scope: this.#o.scope ?? 'conversations',
    });
  }

  async #grant(body: Record<string, string>): Promise<TokenState> {
    this.stats.tokenRequests += 1;
    const response = await this.#post('/v1/auth/token', body);
    if (!response.ok) throw await errorFromResponse(response);
    const receivedAt = this.#clock.now();
    const pair = (await response.json()) as TokenResponse;
    if (typeof pair.access_token !== 'string' || typeof pair.expires_in !== 'number') {
      throw new ContinuumError({
        code: 'unexpected_response',
        status: response.status,
        detail: 'The token response has no access_token',
      });
    }
    const refreshAt = this.#o.refreshAt ?? defaultRefreshAt;
    const dueIn = typeof refreshAt === 'number' ? refreshAt : refreshAt(pair.expires_in);
    // The new refresh token replaces the spent one before the access token is handed out.
    const state: TokenState = {
      access: pair.access_token,
      refresh: pair.refresh_token,
      scope: pair.scope,
      refreshDueAt: receivedAt + Math.max(0, dueIn) * 1000,
      expiresAt: receivedAt + pair.expires_in * 1000,
      refreshExpiresAt: receivedAt + pair.refresh_expires_in * 1000,
    };
    this.#state = state;
    return state;
  }

  async #post(path: string, body: unknown): Promise<Response> {
    try {
      return await this.#fetch(`${this.#o.baseUrl.replace(/\/+$/, '')}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (error) {
      throw networkError(error, `POST ${path}`);
    }
  }
}

/** Failures that may pass: no answer, a 5xx, or a 429. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof ContinuumError)) return false;
  return error.code === 'network_error' || error.status >= 500 || error.status === 429;
}
