/**
 * The one table of error codes. Each code has exactly one HTTP status and a
 * short title; `docs/ERRORS.md` lists the same table and a test keeps the two
 * in step.
 */
export const ERROR_CODES = {
  invalid_request: { status: 400, title: 'The request is malformed' },
  invalid_grant: { status: 401, title: 'The credentials are not valid' },
  refresh_reused: { status: 401, title: 'A spent refresh token was presented again' },
  token_expired: { status: 401, title: 'The access token has expired' },
  token_invalid: { status: 401, title: 'The access token is not valid' },
  insufficient_scope: { status: 403, title: 'The token does not grant this' },
  not_found: { status: 404, title: 'Not found' },
  request_timeout: { status: 408, title: 'The request did not arrive in time' },
  turn_conflict: { status: 409, title: 'The conversation has moved on' },
  conversation_closed: { status: 409, title: 'The conversation is closed' },
  conversation_conflict: { status: 409, title: 'The conversation ID belongs to another owner' },
  tenant_exists: { status: 409, title: 'A tenant with this name already exists' },
  payload_too_large: { status: 413, title: 'The body is too large' },
  unsupported_media_type: { status: 415, title: 'The body must be application/json' },
  idempotency_key_reused: { status: 422, title: 'The idempotency key was used for another request' },
  session_limit: { status: 429, title: 'The tenant has too many active sessions' },
  rate_limited: { status: 429, title: 'Too many requests' },
  streams_busy: { status: 429, title: "The tenant's reply streams are all busy" },
  headers_too_large: { status: 431, title: 'The request headers are too large' },
  state_corrupt: { status: 500, title: 'Stored state failed its integrity check' },
  model_failed: { status: 502, title: 'The model provider failed' },
  reply_interrupted: { status: 503, title: 'The server stopped before the reply was complete' },
  internal: { status: 500, title: 'Internal error' },
  not_implemented: { status: 501, title: 'Not available on this server' },
  store_unavailable: { status: 503, title: 'The store is unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}
