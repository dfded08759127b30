import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessTokens } from '../../auth/access-tokens.ts';
import type { Principal } from '../../auth/principal.ts';
import { secretsEqual } from '../../auth/secrets.ts';
import type { TokenService } from '../../auth/token-service.ts';
import { AppError } from '../../errors/index.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { RateLimiter } from '../rate-limiter.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface AuthHooksOptions {
  accessTokens: AccessTokens;
  tokens: TokenService;
  adminToken: string;
  tenantLimiter: RateLimiter;
  subjectLimiter: RateLimiter;
  metrics: Metrics;
}

function bearer(request: FastifyRequest): string {
  const header = request.headers.authorization;
  // The scheme is case-insensitive (RFC 7235).
  if (typeof header !== 'string' || !/^bearer [\x21-\x7e]+$/i.test(header)) {
    throw new AppError('token_invalid', 'Send the access token as "Authorization: Bearer <token>"');
  }
  return header.slice('Bearer '.length);
}

/**
 * `onRequest` hooks: `user` verifies an access token, checks its family is
 * not revoked and applies the per-tenant and per-subject rate limits;
 * `operator` checks the operator token. Failures are counted and logged
 * without the token.
 */
export function createAuthHooks(options: AuthHooksOptions) {
  const fail = async (request: FastifyRequest, error: AppError, reason: string): Promise<never> => {
    options.metrics.authFailures.inc({ reason });
    request.log.warn({ reason, ip: request.ip }, 'authentication failed');
    await options.tokens.recordFailure(reason, request.ip);
    throw error;
  };
  return {
    async user(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
      let principal: Principal;
      try {
        principal = await options.accessTokens.verify(bearer(request));
        await options.tokens.assertFamilyActive(principal);
      } catch (error) {
        if (error instanceof AppError) return fail(request, error, error.code);
        throw error;
      }
      request.principal = { ...principal, ip: request.ip };
      // Subject first: a subject refused for its own excess must not drain its tenant's bucket.
      await options.subjectLimiter.take(`${principal.tenantId}\u0000${principal.subject}`, 'subject');
      await options.tenantLimiter.take(principal.tenantId, 'tenant');
    },
    async operator(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
      let token: string;
      try {
        token = bearer(request);
      } catch (error) {
        return fail(request, error as AppError, 'operator_missing');
      }
      if (!secretsEqual(token, options.adminToken)) {
        return fail(request, new AppError('token_invalid', 'This route needs the operator token'), 'operator_invalid');
      }
    },
  };
}

export type AuthHooks = ReturnType<typeof createAuthHooks>;

/** The verified caller of a route behind the `user` hook. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new TypeError('principalOf: route is missing the user auth hook');
  return request.principal;
}
