import { ContinuumError } from './errors.ts';

/** What a sync connection does after the server closed it. */
export type CloseDecision =
  | { kind: 'stop'; error: ContinuumError }
  | {
      kind: 'reconnect';
      /** Renew the refused access token first (4001). */
      renew: boolean;
      /** Reconnect without waiting (the first attempt after 4001 or 4008). */
      immediate: boolean;
      /** Reject the appends in flight with this (a frame was too large: it would be refused again). */
      rejectInFlight?: ContinuumError;
    };

/**
 * The close codes of the sync protocol and what a client does at each:
 * `4004` stop (no such conversation, or no access); `1008` stop (sync turned
 * off for the tenant, or a flood of frames: coming back would be refused
 * again); `4001` renew the token and resume at once; `4008` (read too
 * slowly) resume at once; `1009` drop the oversized appends and resume;
 * anything else (`1012` restarting, `1011`, `1013`, an abnormal close)
 * resume after a backoff.
 *
 * @param lastError the last `error` frame before the close, which says why.
 * @param failures closes in a row without reaching `ready`, this one included.
 */
export function decideOnClose(code: number, lastError: ContinuumError | undefined, failures: number): CloseDecision {
  switch (code) {
    case 4004:
      return {
        kind: 'stop',
        error: new ContinuumError({
          code: 'not_found',
          status: 404,
          detail: 'No such conversation (sync closed 4004)',
        }),
      };
    case 1008:
      return {
        kind: 'stop',
        error:
          lastError ??
          new ContinuumError({ code: 'sync_closed', status: 0, detail: 'Sync closed by the server (policy, 1008)' }),
      };
    case 4001:
    case 4008:
      return { kind: 'reconnect', renew: code === 4001, immediate: failures === 1 };
    case 1009:
      return {
        kind: 'reconnect',
        renew: false,
        immediate: false,
        rejectInFlight: new ContinuumError({
          code: 'payload_too_large',
          status: 413,
          detail: 'A sync frame was larger than the server accepts',
        }),
      };
    default:
      return { kind: 'reconnect', renew: false, immediate: false };
  }
}
