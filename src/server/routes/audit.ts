import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import type { AuditEventInput } from '../../audit/event.ts';
import { subjectActor } from '../../audit/events.ts';
import { toFhirBundle } from '../../audit/fhir.ts';
import { AppError } from '../../errors/index.ts';
import { principalOf } from '../plugins/auth.ts';
import * as S from '../schemas.ts';
import type { Services } from '../services.ts';

const security = [{ bearerAuth: [] }];

const EventsQuery = Type.Object(
  {
    conversationId: Type.Optional(Type.String({ maxLength: 64 })),
    after: Type.Integer({ minimum: 0, default: 0 }),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('fhir')])),
  },
  { additionalProperties: false },
);

const ReportQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
    to: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
  },
  { additionalProperties: false },
);

/** The caller must hold an `admin`-scope token; audit covers its own tenant only. */
function adminOf(request: FastifyRequest) {
  const principal = principalOf(request);
  if (principal.scope !== 'admin')
    throw new AppError('insufficient_scope', 'Audit routes need a token with scope admin');
  return principal;
}

/** `GET /v1/audit/events`, `/v1/audit/verify`, `/v1/audit/report` (ADR-007). */
export function registerAuditRoutes(app: FastifyInstance, services: Services): void {
  const { audit, auth } = services;
  const record = (request: FastifyRequest, action: string, detail: AuditEventInput['detail']) => {
    const principal = principalOf(request);
    return audit.record(principal.tenantId, [
      {
        action,
        actor: subjectActor(principal),
        resource: { type: 'audit' },
        outcome: 'success',
        ...(detail ? { detail } : {}),
      },
    ]);
  };

  app.get(
    '/v1/audit/events',
    {
      onRequest: auth.user,
      config: { audit: ['audit.read'] },
      schema: {
        tags: ['audit'],
        summary: "The tenant's audit events in chain order; format=fhir gives a FHIR R4 Bundle of AuditEvent",
        security,
        querystring: EventsQuery,
        response: { ...S.errors.common },
      },
    },
    async (request, reply) => {
      const principal = adminOf(request);
      const query = request.query as Static<typeof EventsQuery>;
      const items = await audit.list(principal.tenantId, {
        afterSeq: query.after,
        limit: query.limit,
        ...(query.conversationId === undefined ? {} : { resourceId: query.conversationId }),
      });
      await record(request, query.format === 'fhir' ? 'audit.export' : 'audit.read', { count: items.length });
      if (query.format === 'fhir') {
        reply.type('application/fhir+json');
        return toFhirBundle(items, {});
      }
      return { items };
    },
  );

  app.get(
    '/v1/audit/verify',
    {
      onRequest: auth.user,
      config: { audit: ['audit.verify'] },
      schema: {
        tags: ['audit'],
        summary: "Walk the tenant's audit chain and checkpoints; names the first bad event",
        security,
        response: { ...S.errors.common },
      },
    },
    async (request) => {
      const principal = adminOf(request);
      const result = await audit.verify(principal.tenantId);
      await record(request, 'audit.verify', { ok: result.ok, checked: result.checked });
      return result;
    },
  );

  app.get(
    '/v1/audit/report',
    {
      onRequest: auth.user,
      config: { audit: ['audit.read'] },
      schema: {
        tags: ['audit'],
        summary: 'Counts by action, actor and outcome over [from, to) for compliance review',
        security,
        querystring: ReportQuery,
        response: { ...S.errors.common },
      },
    },
    async (request) => {
      const principal = adminOf(request);
      const query = request.query as Static<typeof ReportQuery>;
      const from = query.from === undefined ? undefined : new Date(query.from);
      const to = query.to === undefined ? undefined : new Date(query.to);
      if (from && to && from > to) throw new AppError('invalid_request', 'from must not be after to');
      const report = await audit.report(principal.tenantId, { ...(from ? { from } : {}), ...(to ? { to } : {}) });
      await record(request, 'audit.read', { report: true });
      return report;
    },
  );
}
