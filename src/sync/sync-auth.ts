import { decodeJwt } from 'jose';
import type { Principal } from '../auth/principal.ts';
import { AppError } from '../errors/index.ts';
import type { SyncSessionDeps } from './session-deps.ts';

/** A verified `auth` frame: who, and until when (the token's `exp`, in ms). */
export type SyncAuthResult = { ok: true; principal: Principal; expiresAtMs: number } | { ok: false; error: AppError };

/**
 * Verify the token of an `auth` frame as the HTTP auth hook verifies a
 * bearer token: signature, issuer, audience, times, and a refresh family
 * that is not revoked. A refusal is counted, logged without the token and
 * audited as a failed authentication, like over HTTP.
 */
export async function verifySyncToken(
  deps: Pick<SyncSessionDeps, 'accessTokens' | 'tokens' | 'metrics' | 'log'>,
  token: string,
  ip: string,
): Promise<SyncAuthResult> {
  try {
    const principal: Principal = { ...(await deps.accessTokens.verify(token)), ip };
    await deps.tokens.assertFamilyActive(principal);
    // Verified just above: its `exp` is present and trustworthy.
    return { ok: true, principal, expiresAtMs: (decodeJwt(token).exp ?? 0) * 1000 };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    deps.metrics?.authFailures.inc({ reason: error.code });
    deps.log.warn({ reason: error.code, ip }, 'sync authentication failed');
    await deps.tokens.recordFailure(error.code, ip);
    return { ok: false, error };
  }
}
