/**
 * Counters of one client, live (read them any time). They measure what the
 * SDK saves: a client that mints a token per request would have
 * `tokenRequests === requests`.
 */
export interface ClientStats {
  /** Every `POST /v1/auth/token` sent (sign-ins and refreshes, failed ones included). */
  tokenRequests: number;
  /** `api_key` grants sent. */
  signIns: number;
  /** `refresh_token` grants that returned a new pair. */
  refreshes: number;
  /** `refresh_token` grants refused (`invalid_grant`, `refresh_reused`), each followed by a sign-in. */
  refreshFailures: number;
  /** API requests sent (every attempt, retries included; token requests not included). */
  requests: number;
  /** Requests answered `401 token_expired`/`token_invalid` and sent again once with a renewed token. */
  retriesAfter401: number;
  /** Requests sent again after a network failure. */
  networkRetries: number;
  /** Event streams reopened after a dropped connection (SSE resumes and sync reconnects). */
  reconnects: number;
  /** Appends sent again at a newer turn after `409 turn_conflict` (`onConflict: 'rebase'`). */
  rebases: number;
}

/** Fresh zeroed counters. */
export function createStats(): ClientStats {
  return {
    tokenRequests: 0,
    signIns: 0,
    refreshes: 0,
    refreshFailures: 0,
    requests: 0,
    retriesAfter401: 0,
    networkRetries: 0,
    reconnects: 0,
    rebases: 0,
  };
}
