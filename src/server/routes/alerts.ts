import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ALERT_RULES } from '../../observability/alerts/rules.ts';
import * as S from '../schemas.ts';
import type { Services } from '../services.ts';

const Alert = Type.Object({
  id: Type.Union(ALERT_RULES.map((rule) => Type.Literal(rule.id))),
  severity: Type.Union([Type.Literal('critical'), Type.Literal('warning')]),
  summary: Type.String(),
  detail: Type.String(),
  firstSeen: Type.String({ format: 'date-time' }),
  lastSeen: Type.String({ format: 'date-time' }),
  resolvedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const AlertList = Type.Object({
  firing: Type.Array(Alert, { description: 'Alerts firing now, in rule order.' }),
  resolved: Type.Array(Alert, { description: 'Alerts resolved within the last 24 hours (at most 100), newest first.' }),
  evaluatedAt: Type.String({ format: 'date-time' }),
});

/** `GET /v1/admin/alerts` (operator token): what this node's alert engine sees. */
export function registerAlertRoutes(app: FastifyInstance, services: Services): void {
  app.get(
    '/v1/admin/alerts',
    {
      // Operational state only (rule ids, counts, route classes): no tenant data is read.
      config: { audit: [] },
      onRequest: services.auth.operator,
      schema: {
        tags: ['operations'],
        summary: 'Alerts firing now and resolved recently on this node (docs/OPERATIONS.md lists the rules)',
        security: [{ operatorToken: [] }],
        response: { 200: AlertList, ...S.errors.common },
      },
    },
    async (_request, reply) => {
      const { alerts } = services.operations;
      alerts.evaluate();
      reply.header('cache-control', 'no-store');
      return { ...alerts.list(), evaluatedAt: new Date(services.clock.now()).toISOString() };
    },
  );
}
