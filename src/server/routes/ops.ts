import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';

type Check = { ok: boolean; detail?: string; ms: number };

async function timed(probe: () => Promise<unknown>, timeoutMs: number): Promise<Check> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return {
      ok: false,
      detail: error instanceof Error ? error.message : String(error),
      ms: Math.round(performance.now() - started),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks whose failure degrades the node rather than stopping it: without the
 * shared bus a node still serves every request, with node-local fan-out and
 * limits, so a load balancer must keep sending it traffic (status `degraded`,
 * HTTP 200, the check still reported failing).
 */
const DEGRADABLE = new Set(['bus']);

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
      schema: { tags: ['operations'], summary: 'Readiness: each component probed; 503 names every failing check' },
    },
    async (_request, reply) => {
      const timeout = 2000;
      const [store, bus, keys, model, intentRouter] = await Promise.all([
        timed(() => services.store.ping(), timeout),
        timed(() => services.bus.probe(), timeout),
        timed(() => services.keyProvider.probe(), timeout),
        timed(() => services.model.probe(AbortSignal.timeout(timeout)), timeout),
        // Healthy only when the router is loaded and classifies its built-in probe set correctly.
        timed(async () => {
          const result = services.intents.probe();
          if (!result.ok) throw new Error(result.detail ?? `${result.failures.length} probe sentences misclassified`);
        }, timeout),
      ]);
      const checks = { store, bus, keys, model, intentRouter };
      const failing = Object.entries(checks)
        .filter(([, check]) => !check.ok)
        .map(([name]) => name);
      const down = failing.filter((name) => !DEGRADABLE.has(name));
      reply.header('cache-control', 'no-store');
      return reply.status(down.length === 0 ? 200 : 503).send({
        status: failing.length === 0 ? 'ok' : down.length === 0 ? 'degraded' : 'unavailable',
        failing,
        checks,
      });
    },
  );

  app.get(
    '/metrics',
    {
      config: { audit: [] },
      schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: false },
    },
    async (_request, reply) => {
      reply.type(services.metrics.registry.contentType);
      return services.metrics.registry.metrics();
    },
  );
}
