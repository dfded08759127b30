import { type AccessTokenOptions, AccessTokens } from '../auth/access-tokens.ts';
import type { Principal } from '../auth/principal.ts';

/** Options of {@link WatchedAccessTokens}. */
export interface WatchedAccessTokenOptions extends AccessTokenOptions {
  /** Told of every access token that could not be signed (the error is still thrown to the caller). */
  onSigningFailure: (error: unknown) => void;
}

/**
 * Access tokens whose signing failures are reported (to the alert engine):
 * a server that cannot sign tokens locks every client out at its next
 * refresh, so one failure is worth an alert.
 */
export class WatchedAccessTokens extends AccessTokens {
  readonly #onSigningFailure: (error: unknown) => void;

  constructor(options: WatchedAccessTokenOptions) {
    const { onSigningFailure, ...rest } = options;
    super(rest);
    this.#onSigningFailure = onSigningFailure;
  }

  override async issue(claims: Omit<Principal, 'tokenId'>, ttlSeconds?: number): Promise<string> {
    try {
      return await super.issue(claims, ttlSeconds);
    } catch (error) {
      this.#onSigningFailure(error);
      throw error;
    }
  }
}
