import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus registry and the figures the core records. Labels never
 * carry PHI, subjects or conversation ids.
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'continuum_process_' });
  return {
    registry,
    requests: new Counter({
      name: 'continuum_requests_total',
      help: 'HTTP requests by route class and outcome (success, client_error, server_error).',
      labelNames: ['route', 'outcome'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'continuum_conversation_latency_seconds',
      help: 'HTTP request latency by route class.',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    tokenGeneration: new Histogram({
      name: 'continuum_token_generation_seconds',
      help: 'Token generation: issuing a JWT pair (kind api_key, refresh_token) and a model reply to its first delta (kind first_delta).',
      labelNames: ['kind'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers: [registry],
    }),
    stateLoad: new Histogram({
      name: 'continuum_state_load_seconds',
      help: "Time to load a conversation's state: read, session claim and hash-chain check.",
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    contextBuild: new Histogram({
      name: 'continuum_context_build_seconds',
      help: 'Time to build a working context (state catch-up, recent turns, retrieval, prompt).',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    profileExtraction: new Counter({
      name: 'continuum_profile_extraction_total',
      help: 'Profile extraction per turn by outcome: facts, empty, suspect_empty (clinical-looking text, no fact), failed.',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    contextUpdateFailures: new Counter({
      name: 'continuum_context_update_failures_total',
      help: 'Working-context updates that failed after an append (the context catches up on its next read).',
      registers: [registry],
    }),
    replies: new Counter({
      name: 'continuum_replies_total',
      help: 'Model replies by outcome: stored, failed, busy (streams_busy).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    escalations: new Counter({
      name: 'continuum_escalations_total',
      help: 'User turns the intent router flagged for escalation, by intent.',
      labelNames: ['intent'] as const,
      registers: [registry],
    }),
    activeStreams: new Gauge({
      name: 'continuum_active_sse_streams',
      help: 'Open SSE responses on this node.',
      registers: [registry],
    }),
    modelFallbacks: new Counter({
      name: 'continuum_context_model_fallbacks_total',
      help: 'Model-backed summaries and extractions that fell back to the embedded ones, by part and reason.',
      labelNames: ['part', 'reason'] as const,
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'continuum_auth_failures_total',
      help: 'Failed authentications by reason.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    busErrors: new Counter({
      name: 'continuum_bus_errors_total',
      help: 'Event bus publishes and subscriptions that failed (Redis unreachable); the change itself was kept.',
      registers: [registry],
    }),
    sharedStateFallbacks: new Counter({
      name: 'continuum_shared_state_fallbacks_total',
      help: 'Rate-limit and session-pool decisions this node made alone because Redis did not answer, by operation.',
      labelNames: ['operation'] as const,
      registers: [registry],
    }),
    turns: new Counter({
      name: 'continuum_turns_total',
      help: 'Turn appends by outcome (appended, replayed, conflict, rejected).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
