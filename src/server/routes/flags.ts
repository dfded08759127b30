import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { operatorActor } from '../../audit/events.ts';
import { MAX_FLAG_TENANTS } from '../../flags/index.ts';
import * as S from '../schemas.ts';
import type { Services } from '../services.ts';

const Flag = Type.Object({
  name: Type.String(),
  description: Type.String(),
  enabled: Type.Boolean(),
  tenants: Type.Array(Type.String()),
  percent: Type.Number(),
  updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const FlagParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });

const PutFlagRequest = Type.Object(
  {
    enabled: Type.Boolean(),
    tenants: Type.Optional(
      Type.Array(Type.String({ pattern: '^tnt_[a-z2-7]{16}$' }), { maxItems: MAX_FLAG_TENANTS, uniqueItems: true }),
    ),
    percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  },
  { additionalProperties: false },
);

/** `GET /v1/admin/flags`, `PUT /v1/admin/flags/{name}`: feature flags, behind the operator token. */
export function registerFlagRoutes(app: FastifyInstance, services: Services): void {
  const security = [{ operatorToken: [] }];

  app.get(
    '/v1/admin/flags',
    {
      // Operator configuration, no tenant data: nothing to audit.
      config: { audit: [] },
      onRequest: services.auth.operator,
      schema: {
        tags: ['admin'],
        summary: 'Every feature flag as the store has it now (a flag never set is on for every tenant)',
        security,
        response: { 200: Type.Object({ items: Type.Array(Flag) }), ...S.errors.common },
      },
    },
    async (_request, reply) => {
      await services.flags.refresh();
      reply.header('cache-control', 'no-store');
      return { items: services.flags.list() };
    },
  );

  app.put(
    '/v1/admin/flags/:name',
    {
      config: { audit: ['flag.update'] },
      onRequest: services.auth.operator,
      schema: {
        tags: ['admin'],
        summary:
          'Replace a flag: on/off, an allow-list of tenants, a percentage of the others (default 100, or 0 with tenants); every node applies it within 5 s',
        security,
        params: FlagParams,
        body: PutFlagRequest,
        response: { 200: Flag, ...S.errors.common },
      },
    },
    async (request, reply) => {
      const { name } = request.params as Static<typeof FlagParams>;
      const body = request.body as Static<typeof PutFlagRequest>;
      const flag = await services.flags.set(name, body, operatorActor(request.ip));
      request.log.info({ flag: flag.name, enabled: flag.enabled, percent: flag.percent }, 'feature flag changed');
      reply.header('cache-control', 'no-store');
      return flag;
    },
  );
}
