import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/index.ts';
import type { Metrics } from './metrics.ts';
import type { Operations } from './operations.ts';

/** Probes and scrapes: counted, but left out of the alert rules (a failing /readyz is not a failing request). */
const OPERATIONS_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

const APPEND_ROUTE = '/v1/conversations/:id/turns';

/**
 * The route class of a request: its method and route template
 * (`POST /v1/conversations/:id/turns`), never the path itself, so no
 * conversation id reaches a label; `unmatched` for paths with no route.
 */
export function routeClass(request: FastifyRequest): string {
  const template = request.routeOptions.url;
  return template === undefined ? 'unmatched' : `${request.method} ${template}`;
}

/**
 * An SSE response: the client asked for an event stream and the route wrote
 * it itself (hijacked), so Fastify never set a content type. Its duration is
 * the stream's life, not latency.
 */
function isEventStream(request: FastifyRequest, reply: FastifyReply): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('text/event-stream') && reply.getHeader('content-type') === undefined;
}

/**
 * Count every request by route class and outcome, time it (SSE streams
 * excepted), and feed the alert engine: each request's status and latency,
 * and each `state_corrupt` answer (which also marks an append's turn as not
 * having found its prior context).
 */
export function installRequestObservers(app: FastifyInstance, metrics: Metrics, ops: Operations): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = routeClass(request);
    const status = reply.statusCode;
    metrics.requests.inc({
      route,
      outcome: status >= 500 ? 'server_error' : status >= 400 ? 'client_error' : 'success',
    });
    if (isEventStream(request, reply)) return;
    const seconds = reply.elapsedTime / 1000;
    metrics.latency.observe({ route }, seconds);
    if (!OPERATIONS_ROUTES.has(request.routeOptions.url ?? '')) ops.alerts.request(seconds, status);
  });
  app.addHook('onError', async (request, _reply, error) => {
    if (!(error instanceof AppError) || error.code !== 'state_corrupt') return;
    ops.stateCorrupt();
    if (request.method === 'POST' && request.routeOptions.url === APPEND_ROUTE) ops.turnContinuity('corrupt');
  });
}
