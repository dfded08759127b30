import type { Clock } from '../core/clock.ts';
import type { Scope, TenantId } from '../core/types.ts';
import { AppError } from '../errors/index.ts';
import type { Store } from '../store/port.ts';
import type { AccessTokens } from './access-tokens.ts';
import type { Principal } from './principal.ts';
import { mintSecret, parseSecret, randomId } from './secrets.ts';

export interface TokenServiceOptions {
  store: Store;
  clock: Clock;
  accessTokens: AccessTokens;
  refreshTtlSeconds: number;
  familyTtlSeconds: number;
  /** How long a family's "not revoked" answer is trusted before the store is asked again. */
  revocationCacheMs?: number;
}

/** What `POST /v1/auth/token` answers (RFC 6749 field names). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
  scope: Scope;
}

/** Why a grant failed, for the audit trail and failed-auth counters. */
export type GrantFailure = 'bad_api_key' | 'unknown_refresh' | 'expired' | 'revoked' | 'reused';

/**
 * The grants: API key → first pair; refresh token → next pair, the old one
 * spent; a spent token presented again revokes its family (ADR-001).
 */
export class TokenService {
  readonly #o: TokenServiceOptions;
  readonly #familyChecks = new Map<string, { revoked: boolean; at: number }>();

  constructor(options: TokenServiceOptions) {
    this.#o = options;
  }

  async grantApiKey(
    apiKey: string,
    subject: string,
    scope: Scope,
  ): Promise<{ response: TokenResponse; tenantId: TenantId }> {
    const parsed = parseSecret('ck', apiKey);
    const record = parsed ? await this.#o.store.findApiKey(parsed.tenantId, parsed.hash) : null;
    if (!parsed || !record || record.revokedAt !== null) {
      throw new AppError('invalid_grant', 'The API key is not valid', { extras: { reason: 'bad_api_key' } });
    }
    const now = this.#o.clock.now();
    const familyId = randomId('fam', 12);
    const refresh = mintSecret('crt', parsed.tenantId);
    const refreshExpires = Math.min(now + this.#o.refreshTtlSeconds * 1000, now + this.#o.familyTtlSeconds * 1000);
    await this.#o.store.createRefreshFamily(
      parsed.tenantId,
      {
        id: familyId,
        tenantId: parsed.tenantId,
        subject,
        scope,
        createdAtMs: now,
        expiresAtMs: now + this.#o.familyTtlSeconds * 1000,
        revokedAtMs: null,
        revokedReason: null,
      },
      { hash: parseSecret('crt', refresh)!.hash, familyId, createdAtMs: now, expiresAtMs: refreshExpires },
    );
    const response = await this.#pair({ tenantId: parsed.tenantId, subject, scope, familyId }, refresh, refreshExpires);
    return { response, tenantId: parsed.tenantId };
  }

  async grantRefresh(refreshToken: string): Promise<{ response: TokenResponse; tenantId: TenantId }> {
    const parsed = parseSecret('crt', refreshToken);
    if (!parsed)
      throw new AppError('invalid_grant', 'The refresh token is not valid', { extras: { reason: 'unknown_refresh' } });
    const now = this.#o.clock.now();
    const next = mintSecret('crt', parsed.tenantId);
    const outcome = await this.#o.store.rotateRefreshToken(
      parsed.tenantId,
      parsed.hash,
      { hash: parseSecret('crt', next)!.hash, createdAtMs: now, expiresAtMs: now + this.#o.refreshTtlSeconds * 1000 },
      now,
    );
    switch (outcome.kind) {
      case 'rotated': {
        const { family } = outcome;
        const expiresAt = Math.min(now + this.#o.refreshTtlSeconds * 1000, family.expiresAtMs);
        const response = await this.#pair(
          { tenantId: family.tenantId, subject: family.subject, scope: family.scope, familyId: family.id },
          next,
          expiresAt,
        );
        return { response, tenantId: family.tenantId };
      }
      case 'reused':
        this.#familyChecks.set(outcome.family.id, { revoked: true, at: now });
        throw new AppError(
          'refresh_reused',
          'This refresh token was already used; every token of its family is now revoked',
          {
            extras: { reason: 'reused', tenantId: parsed.tenantId },
          },
        );
      case 'revoked':
        throw new AppError('invalid_grant', 'The refresh token has been revoked', { extras: { reason: 'revoked' } });
      case 'expired':
        throw new AppError('invalid_grant', 'The refresh token has expired; sign in again', {
          extras: { reason: 'expired' },
        });
      case 'not_found':
        throw new AppError('invalid_grant', 'The refresh token is not valid', {
          extras: { reason: 'unknown_refresh' },
        });
    }
  }

  /** RFC 7009: revoke the family of a refresh token; unknown tokens are not an error. */
  async revoke(refreshToken: string): Promise<{ tenantId: TenantId; familyId: string } | null> {
    const parsed = parseSecret('crt', refreshToken);
    if (!parsed) return null;
    const now = this.#o.clock.now();
    const familyId = await this.#o.store.revokeRefreshFamilyOf(parsed.tenantId, parsed.hash, 'revoked', now);
    if (familyId === null) return null;
    this.#familyChecks.set(familyId, { revoked: true, at: now });
    return { tenantId: parsed.tenantId, familyId };
  }

  /** Refuse an access token whose family was revoked (reuse or logout). */
  async assertFamilyActive(principal: Principal): Promise<void> {
    const now = this.#o.clock.now();
    const cached = this.#familyChecks.get(principal.familyId);
    let revoked: boolean;
    if (cached && (cached.revoked || now - cached.at < (this.#o.revocationCacheMs ?? 1000))) {
      revoked = cached.revoked;
    } else {
      const family = await this.#o.store.getRefreshFamily(principal.tenantId, principal.familyId);
      revoked = family === null || family.revokedAtMs !== null;
      if (this.#familyChecks.size > 50_000) this.#familyChecks.clear();
      this.#familyChecks.set(principal.familyId, { revoked, at: now });
    }
    if (revoked) throw new AppError('token_invalid', 'The access token has been revoked');
  }

  async #pair(claims: Omit<Principal, 'tokenId'>, refresh: string, refreshExpiresAtMs: number): Promise<TokenResponse> {
    return {
      access_token: await this.#o.accessTokens.issue(claims),
      token_type: 'Bearer',
      expires_in: this.#o.accessTokens.ttlSeconds,
      refresh_token: refresh,
      refresh_expires_in: Math.max(0, Math.floor((refreshExpiresAtMs - this.#o.clock.now()) / 1000)),
      scope: claims.scope,
    };
  }
}
