import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { operatorActor } from '../../audit/events.ts';
import * as S from '../schemas.ts';
import type { Services } from '../services.ts';

/** Operator routes, behind `CONTINUUM_ADMIN_TOKEN`. */
export function registerAdminRoutes(app: FastifyInstance, services: Services): void {
  const operator = services.auth.operator;
  const security = [{ operatorToken: [] }];

  app.post(
    '/v1/admin/tenants',
    {
      config: { audit: ['tenant.create', 'api_key.create'] },
      onRequest: operator,
      schema: {
        tags: ['admin'],
        summary: 'Create a tenant; its API key is shown once',
        security,
        body: S.CreateTenantRequest,
        response: { 201: S.CreateTenantResponse, ...S.errors.common },
      },
    },
    async (request, reply) => {
      const created = await services.tenants.create(
        operatorActor(request.ip),
        (request.body as Static<typeof S.CreateTenantRequest>).name,
      );
      reply.header('cache-control', 'no-store');
      return reply.status(201).send(created);
    },
  );

  app.post(
    '/v1/admin/signing-keys/rotate',
    {
      config: { audit: ['signing_key.rotate'] },
      onRequest: operator,
      schema: {
        tags: ['admin'],
        summary: 'Start signing with a new key; tokens of the old one stay valid until they expire',
        security,
      },
    },
    async () => services.keyring.rotate(),
  );
}
