import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { AppError } from '../../errors/index.ts';
import * as S from '../schemas.ts';
import type { Services } from '../services.ts';

/** `POST /v1/auth/token`, `POST /v1/auth/revoke`, `GET /.well-known/jwks.json`. */
export function registerAuthRoutes(app: FastifyInstance, services: Services): void {
  const { tokens, metrics, keyring } = services;

  app.post(
    '/v1/auth/token',
    {
      config: { audit: ['token.issue'] },
      schema: {
        tags: ['auth'],
        summary: 'Issue a token pair (api_key grant) or rotate one (refresh_token grant)',
        body: S.TokenRequest,
        response: { 200: S.TokenResponse, ...S.errors.common },
      },
    },
    async (request, reply) => {
      const body = request.body as Static<typeof S.TokenRequest>;
      const started = performance.now();
      reply.header('cache-control', 'no-store');
      try {
        if (body.grant_type === 'api_key') {
          if (!body.api_key || !body.subject || body.refresh_token !== undefined) {
            throw new AppError('invalid_request', 'The api_key grant takes api_key, subject and optionally scope');
          }
          const { response } = await tokens.grantApiKey(
            body.api_key,
            body.subject,
            body.scope ?? 'conversations',
            request.ip,
          );
          return response;
        }
        if (!body.refresh_token || body.api_key !== undefined || body.subject !== undefined) {
          throw new AppError('invalid_request', 'The refresh_token grant takes only refresh_token');
        }
        const { response } = await tokens.grantRefresh(body.refresh_token, request.ip);
        return response;
      } catch (error) {
        if (error instanceof AppError && error.status === 401) {
          const reason = String(error.extras['reason'] ?? error.code);
          metrics.authFailures.inc({ reason });
          request.log.warn({ reason, grant: body.grant_type, ip: request.ip }, 'token grant refused');
          // The reason is for logs and audit, not for the caller.
          throw new AppError(error.code, error.message);
        }
        throw error;
      } finally {
        metrics.tokenGeneration.observe({ kind: body.grant_type }, (performance.now() - started) / 1000);
      }
    },
  );

  app.post(
    '/v1/auth/revoke',
    {
      config: { audit: ['token.revoke'] },
      schema: {
        tags: ['auth'],
        summary: 'Revoke a refresh token and its whole family (RFC 7009: unknown tokens also answer 200)',
        body: S.RevokeRequest,
      },
    },
    async (request) => {
      await tokens.revoke((request.body as Static<typeof S.RevokeRequest>).token, request.ip);
      return { revoked: true };
    },
  );

  app.get(
    '/.well-known/jwks.json',
    {
      config: { audit: [] },
      schema: { tags: ['auth'], summary: 'Public keys that verify access tokens' },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return keyring.jwks();
    },
  );
}
