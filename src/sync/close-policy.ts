import type { AppError, ErrorCode } from '../errors/index.ts';
import { SYNC_CLOSE, type SyncCloseCode } from './protocol.ts';

/** Close reasons are capped at 123 bytes by the protocol; these stay short. */
export const REASON = {
  authFirst: 'authenticate first: send an auth frame',
  authTimeout: 'no auth frame in time',
  expired: 'token expired: refresh, reconnect, resubscribe with after',
  invalid: 'token not valid',
  notFound: 'conversation not found',
  tooSlow: 'send buffer full: reconnect and resubscribe with after',
  flood: 'too many frames in flight',
  off: 'sync is turned off for this tenant',
  failed: 'server error: reconnect and resubscribe with after',
  busy: 'unavailable: retry later and resubscribe with after',
};

/** Errors that end a connection, by the close code that tells the client what to do (others: 1011). */
const CLOSE_FOR: Partial<Record<ErrorCode, SyncCloseCode>> = {
  not_found: SYNC_CLOSE.notFound,
  token_expired: SYNC_CLOSE.unauthorized,
  token_invalid: SYNC_CLOSE.unauthorized,
  store_unavailable: SYNC_CLOSE.tryAgainLater,
  session_limit: SYNC_CLOSE.tryAgainLater,
  rate_limited: SYNC_CLOSE.tryAgainLater,
  streams_busy: SYNC_CLOSE.tryAgainLater,
};

/** Errors that refuse one frame and leave the connection open. */
const REFUSE_FRAME_ONLY: ReadonlySet<ErrorCode> = new Set([
  'invalid_request',
  'turn_conflict',
  'conversation_closed',
  'idempotency_key_reused',
]);

/**
 * How an error that ends a connection closes it: the close code that tells
 * the client what to do, and a short reason. `undefined` for errors that only
 * refuse one frame (a bad frame, a turn conflict, a closed conversation).
 */
export function closeFor(error: AppError): { code: SyncCloseCode; reason: string } | undefined {
  if (REFUSE_FRAME_ONLY.has(error.code)) return undefined;
  const code = CLOSE_FOR[error.code] ?? SYNC_CLOSE.internal;
  const reasons: Partial<Record<SyncCloseCode, string>> = {
    [SYNC_CLOSE.notFound]: REASON.notFound,
    [SYNC_CLOSE.unauthorized]: REASON.invalid,
    [SYNC_CLOSE.tryAgainLater]: REASON.busy,
  };
  return { code, reason: reasons[code] ?? REASON.failed };
}
