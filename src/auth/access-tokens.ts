import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../core/clock.ts';
import { asTenantId, type Scope } from '../core/types.ts';
import { AppError } from '../errors/index.ts';
import type { Principal } from './principal.ts';
import { isTenantId } from './secrets.ts';
import type { SigningKeyring } from './signing-keys.ts';

export interface AccessTokenOptions {
  keyring: SigningKeyring;
  clock: Clock;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  clockToleranceSeconds: number;
  /** Verified tokens kept in memory so a hot client costs one signature check, not one per request. */
  cacheSize?: number;
}

interface Cached {
  principal: Principal;
  exp: number;
}

/**
 * EdDSA access tokens (ADR-001): `iss`, `aud`, `sub`, `tid`, `kid`, `jti`,
 * `exp`; verification pins the algorithm and checks issuer, audience and
 * times against the injected clock.
 */
export class AccessTokens {
  readonly #options: AccessTokenOptions;
  readonly #cache = new Map<string, Cached>();
  readonly #cacheSize: number;

  constructor(options: AccessTokenOptions) {
    this.#options = options;
    this.#cacheSize = options.cacheSize ?? 10_000;
  }

  get ttlSeconds(): number {
    return this.#options.ttlSeconds;
  }

  /** Sign an access token living `ttlSeconds` (default: the configured lifetime). */
  async issue(claims: Omit<Principal, 'tokenId'>, ttlSeconds = this.#options.ttlSeconds): Promise<string> {
    const { keyring, clock, issuer, audience } = this.#options;
    const key = await keyring.current();
    const now = Math.floor(clock.now() / 1000);
    return new SignJWT({ tid: claims.tenantId, scope: claims.scope, fid: claims.familyId })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(claims.subject)
      .setJti(randomBytes(12).toString('base64url'))
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(key.privateKey);
  }

  /** Verify a bearer token or throw `token_expired` / `token_invalid`. */
  async verify(token: string): Promise<Principal> {
    const { clock, clockToleranceSeconds } = this.#options;
    const cached = this.#cache.get(token);
    if (cached) {
      if (clock.now() / 1000 > cached.exp + clockToleranceSeconds) {
        this.#cache.delete(token);
        throw new AppError('token_expired', 'The access token has expired; refresh it');
      }
      return cached.principal;
    }
    const { principal, exp } = await this.#verifySignature(token);
    if (this.#cache.size >= this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(token, { principal, exp });
    return principal;
  }

  async #verifySignature(token: string): Promise<Cached> {
    const { keyring, clock, issuer, audience, clockToleranceSeconds } = this.#options;
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new AppError('token_invalid', 'The access token is not a JWT');
    }
    if (header.alg !== 'EdDSA')
      throw new AppError('token_invalid', 'The access token uses an algorithm this server does not accept');
    if (typeof header.kid !== 'string') throw new AppError('token_invalid', 'The access token names no key');
    const key = await keyring.find(header.kid);
    if (!key) throw new AppError('token_invalid', 'The access token was signed by an unknown key');
    try {
      const { payload } = await jwtVerify(token, key.publicKey, {
        algorithms: ['EdDSA'],
        issuer,
        audience,
        currentDate: new Date(clock.now()),
        clockTolerance: clockToleranceSeconds,
        requiredClaims: ['sub', 'jti', 'exp', 'iat', 'tid', 'fid'],
      });
      const tid = String(payload['tid']);
      const scope = payload['scope'];
      if (!isTenantId(tid) || (scope !== 'conversations' && scope !== 'admin')) {
        throw new AppError('token_invalid', 'The access token has malformed claims');
      }
      return {
        principal: {
          tenantId: asTenantId(tid),
          subject: payload.sub!,
          scope: scope as Scope,
          tokenId: payload.jti!,
          familyId: String(payload['fid']),
        },
        exp: payload.exp!,
      };
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof joseErrors.JWTExpired) {
        throw new AppError('token_expired', 'The access token has expired; refresh it');
      }
      throw new AppError('token_invalid', 'The access token failed verification', { cause: error });
    }
  }
}
