import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors/index.ts';
import type { ComponentName, Probe } from '../../observability/readiness.ts';
import type { Services } from '../services.ts';

/**
 * The real round trip behind each `/readyz` check: a store query, a bus
 * publish and receive, a key wrap and unwrap, the model provider's probe, and
 * the intent router's probe set (healthy only when it classifies every probe
 * sentence correctly).
 */
export function componentProbes(services: Pick<Services, 'store' | 'bus' | 'keyProvider' | 'model' | 'intents'>) {
  const probes: Record<ComponentName, Probe> = {
    store: () => services.store.ping(),
    bus: () => services.bus.probe(),
    keys: () => services.keyProvider.probe(),
    model: (signal) => services.model.probe(signal),
    intentRouter: () => {
      const result = services.intents.probe();
      if (!result.ok) throw new Error(result.detail ?? `${result.failures.length} probe sentences misclassified`);
    },
  };
  return probes;
}

/** `/healthz`, `/readyz` (every component checked for real), `/metrics`. */
export function registerOpsRoutes(app: FastifyInstance, services: Services): void {
  app.get(
    '/healthz',
    {
      config: { audit: [] },
      schema: { tags: ['operations'], summary: 'Liveness: 200 while the process lives' },
    },
    async () => ({
      status: 'ok',
    }),
  );

  app.get(
    '/readyz',
    {
      config: { audit: [] },
      schema: {
        tags: ['operations'],
        summary:
          'Readiness: each component probed (2 s timeout, results reused for 1 s); 503 names every failing check, a failing bus alone is 200 degraded',
      },
    },
    async (_request, reply) => {
      const report = await services.operations.readiness.report();
      reply.header('cache-control', 'no-store');
      return reply.status(report.status === 'unavailable' ? 503 : 200).send(report);
    },
  );

  app.get(
    '/metrics',
    {
      config: { audit: [] },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (404 with CONTINUUM_METRICS=emf)',
        hide: false,
      },
    },
    async (_request, reply) => {
      if (!services.operations.servesPrometheus) {
        throw new AppError('not_found', 'Metrics go out as EMF log lines here (CONTINUUM_METRICS=emf)');
      }
      reply.type(services.metrics.registry.contentType);
      return services.metrics.registry.metrics();
    },
  );
}
