import type { AuditTrail } from '../audit/audit-trail.ts';
import { type AuditActor, type AuditEventInput, SYSTEM_TENANT } from '../audit/event.ts';
import type { Clock } from '../core/clock.ts';
import type { Scope, TenantId } from '../core/types.ts';
import { AppError } from '../errors/index.ts';
import type { RotateOutcome, Store } from '../store/port.ts';
import type { AccessTokens } from './access-tokens.ts';
import type { Principal } from './principal.ts';
import { mintSecret, parseSecret, randomId } from './secrets.ts';

export interface TokenServiceOptions {
  store: Store;
  clock: Clock;
  accessTokens: AccessTokens;
  audit: AuditTrail;
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

/**
 * The grants: API key → first pair; refresh token → next pair, the old one
 * spent; a spent token presented again revokes its family (ADR-001). Every
 * grant, refusal and revocation is audited.
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
    ip?: string,
  ): Promise<{ response: TokenResponse; tenantId: TenantId }> {
    const parsed = parseSecret('ck', apiKey);
    const record = parsed ? await this.#o.store.findApiKey(parsed.tenantId, parsed.hash) : null;
    if (!parsed || !record || record.revokedAt !== null) {
      await this.recordFailure('bad_api_key', ip, parsed?.tenantId);
      throw new AppError('invalid_grant', 'The API key is not valid', { extras: { reason: 'bad_api_key' } });
    }
    const tenantId = parsed.tenantId;
    const now = this.#o.clock.now();
    const familyId = randomId('fam', 12);
    const refresh = mintSecret('crt', tenantId);
    const familyExpires = now + this.#o.familyTtlSeconds * 1000;
    const refreshExpires = Math.min(now + this.#o.refreshTtlSeconds * 1000, familyExpires);
    await this.#o.store.createRefreshFamily(
      tenantId,
      {
        id: familyId,
        tenantId,
        subject,
        scope,
        createdAtMs: now,
        expiresAtMs: familyExpires,
        revokedAtMs: null,
        revokedReason: null,
      },
      { hash: parseSecret('crt', refresh)!.hash, familyId, createdAtMs: now, expiresAtMs: refreshExpires },
      this.#o.audit.batch(tenantId, () => [
        {
          action: 'token.issue',
          actor: actorOf(tenantId, subject, ip),
          resource: { type: 'token', id: familyId },
          outcome: 'success',
          detail: { scope },
        },
      ]),
    );
    const response = await this.#pair({ tenantId, subject, scope, familyId }, refresh, refreshExpires, familyExpires);
    return { response, tenantId };
  }

  async grantRefresh(refreshToken: string, ip?: string): Promise<{ response: TokenResponse; tenantId: TenantId }> {
    const parsed = parseSecret('crt', refreshToken);
    if (!parsed) {
      await this.recordFailure('unknown_refresh', ip);
      throw new AppError('invalid_grant', 'The refresh token is not valid', { extras: { reason: 'unknown_refresh' } });
    }
    const now = this.#o.clock.now();
    const next = mintSecret('crt', parsed.tenantId);
    const outcome = await this.#o.store.rotateRefreshToken(
      parsed.tenantId,
      parsed.hash,
      { hash: parseSecret('crt', next)!.hash, createdAtMs: now, expiresAtMs: now + this.#o.refreshTtlSeconds * 1000 },
      now,
      this.#o.audit.batch(parsed.tenantId, (result: RotateOutcome) => refreshAudit(result, ip)),
    );
    switch (outcome.kind) {
      case 'rotated': {
        const { family } = outcome;
        const expiresAt = Math.min(now + this.#o.refreshTtlSeconds * 1000, family.expiresAtMs);
        const response = await this.#pair(
          { tenantId: family.tenantId, subject: family.subject, scope: family.scope, familyId: family.id },
          next,
          expiresAt,
          family.expiresAtMs,
        );
        return { response, tenantId: family.tenantId };
      }
      case 'reused':
        this.#familyChecks.set(outcome.family.id, { revoked: true, at: now });
        throw new AppError(
          'refresh_reused',
          'This refresh token was already used; every token of its family is now revoked',
          { extras: { reason: 'reused' } },
        );
      case 'revoked':
        throw new AppError('invalid_grant', 'The refresh token has been revoked', { extras: { reason: 'revoked' } });
      case 'expired':
        throw new AppError('invalid_grant', 'The refresh token has expired; sign in again', {
          extras: { reason: 'expired' },
        });
      case 'not_found':
        await this.recordFailure('unknown_refresh', ip, parsed.tenantId);
        throw new AppError('invalid_grant', 'The refresh token is not valid', {
          extras: { reason: 'unknown_refresh' },
        });
    }
  }

  /** RFC 7009: revoke the family of a refresh token; unknown tokens are not an error. */
  async revoke(refreshToken: string, ip?: string): Promise<{ tenantId: TenantId; familyId: string } | null> {
    const parsed = parseSecret('crt', refreshToken);
    if (!parsed) return null;
    const tenantId = parsed.tenantId;
    const now = this.#o.clock.now();
    const familyId = await this.#o.store.revokeRefreshFamilyOf(
      tenantId,
      parsed.hash,
      'revoked',
      now,
      this.#o.audit.batch(tenantId, (revoked: string | null) =>
        revoked === null
          ? []
          : [
              {
                action: 'token.revoke',
                actor: { kind: 'anonymous', tenantId, ...(ip === undefined ? {} : { ip }) },
                resource: { type: 'token', id: revoked },
                outcome: 'success',
              },
            ],
      ),
    );
    if (familyId === null) return null;
    this.#familyChecks.set(familyId, { revoked: true, at: now });
    return { tenantId, familyId };
  }

  /**
   * Audit a refused credential in the system chain: the tenant named by an
   * unverified credential is only a claim, so it goes in `detail`.
   */
  async recordFailure(reason: string, ip?: string, claimedTenant?: string): Promise<void> {
    await this.#o.audit.record(SYSTEM_TENANT, [
      {
        action: 'auth.failure',
        actor: { kind: 'anonymous', ...(ip === undefined ? {} : { ip }) },
        resource: { type: 'token' },
        outcome: 'denied',
        detail: { reason, ...(claimedTenant === undefined ? {} : { claimedTenant }) },
      },
    ]);
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

  async #pair(
    claims: Omit<Principal, 'tokenId'>,
    refresh: string,
    refreshExpiresAtMs: number,
    familyExpiresAtMs: number,
  ): Promise<TokenResponse> {
    const now = this.#o.clock.now();
    // No access token outlives its family's absolute lifetime.
    const ttl = Math.max(1, Math.min(this.#o.accessTokens.ttlSeconds, Math.floor((familyExpiresAtMs - now) / 1000)));
    return {
      access_token: await this.#o.accessTokens.issue(claims, ttl),
      token_type: 'Bearer',
      expires_in: ttl,
      refresh_token: refresh,
      refresh_expires_in: Math.max(0, Math.round((refreshExpiresAtMs - now) / 1000)),
      scope: claims.scope,
    };
  }
}

function actorOf(tenantId: TenantId, subject: string, ip?: string): AuditActor {
  return { kind: 'subject', tenantId, subject, ...(ip === undefined ? {} : { ip }) };
}

function refreshAudit(outcome: RotateOutcome, ip?: string): AuditEventInput[] {
  switch (outcome.kind) {
    case 'not_found':
      return [];
    case 'revoked':
    case 'expired':
      return [
        {
          action: 'token.refresh',
          actor: { kind: 'anonymous', ...(ip === undefined ? {} : { ip }) },
          resource: { type: 'token' },
          outcome: 'failure',
          detail: { reason: outcome.kind },
        },
      ];
    case 'rotated':
    case 'reused':
      return [
        {
          action: outcome.kind === 'reused' ? 'token.refresh_reused' : 'token.refresh',
          actor: actorOf(outcome.family.tenantId, outcome.family.subject, ip),
          resource: { type: 'token', id: outcome.family.id },
          outcome: outcome.kind === 'reused' ? 'denied' : 'success',
        },
      ];
  }
}
