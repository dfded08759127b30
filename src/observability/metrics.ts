import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus registry and the figures the core records. Labels never
 * carry PHI, subjects or conversation ids.
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'continuum_process_' });
  const samplers: MetricSamplers = {};
  const continuity = new Counter({
    name: 'continuum_turn_continuity_total',
    help: 'Appended turns by whether they found their full prior context: whole, context_failed, corrupt (docs/OPERATIONS.md).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  return {
    registry,
    requests: new Counter({
      name: 'continuum_requests_total',
      help: 'HTTP requests by route class (method and route template, or unmatched) and outcome (success, client_error, server_error).',
      labelNames: ['route', 'outcome'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'continuum_conversation_latency_seconds',
      help: 'HTTP request latency by route class (method and route template); SSE streams are not timed here.',
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
    websocketConnections: new Gauge({
      name: 'continuum_websocket_connections',
      help: 'Open sync WebSocket connections on this node.',
      registers: [registry],
    }),
    websocketCloses: new Counter({
      name: 'continuum_websocket_closes_total',
      help: 'Sync WebSocket connections the server closed, by close code (4001 token, 4004 not found, 4008 too slow, 1012 restart, ...).',
      labelNames: ['code'] as const,
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
    continuity,
    continuityRatio: new Gauge({
      name: 'continuum_conversation_continuity_ratio',
      help: 'Appended turns that found their full prior context (whole) / all appended turns, since start; 1 before the first turn.',
      registers: [registry],
      async collect() {
        const values = (await continuity.get()).values;
        const total = values.reduce((sum, v) => sum + v.value, 0);
        const whole = values.find((v) => v.labels['outcome'] === 'whole')?.value ?? 0;
        this.set(total === 0 ? 1 : whole / total);
      },
    }),
    sessionPoolActive: new Gauge({
      name: 'continuum_session_pool_active',
      help: 'Active conversation sessions of the tenants this node served within the idle TTL (cluster-wide counts with Redis).',
      registers: [registry],
      async collect() {
        const sample = await samplers.sessionPool?.();
        if (sample) this.set(sample.active);
      },
    }),
    sessionPoolOccupancy: new Gauge({
      name: 'continuum_session_pool_occupancy_ratio',
      help: "The fullest tenant's active sessions / CONTINUUM_MAX_SESSIONS_PER_TENANT (0 when there is no limit).",
      registers: [registry],
      async collect() {
        const sample = await samplers.sessionPool?.();
        if (sample) this.set(sample.occupancy);
      },
    }),
    replyQueueDepth: new Gauge({
      name: 'continuum_reply_queue_depth',
      help: 'Model replies waiting in the stream scheduler for a generation slot on this node (all tenants).',
      registers: [registry],
    }),
    replyGenerations: new Gauge({
      name: 'continuum_reply_generations_active',
      help: 'Model replies holding a generation slot on this node (all tenants).',
      registers: [registry],
    }),
    refreshes: new Counter({
      name: 'continuum_refresh_total',
      help: 'Refresh-token exchanges by outcome: rotated, reused, revoked, expired, not_found.',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    auditAppend: new Histogram({
      name: 'continuum_audit_append_seconds',
      help: 'Time to append audit events recorded on their own (reads, refusals), commit included.',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: 'continuum_store_errors_total',
      help: 'Store calls that failed with store_unavailable, by store operation.',
      labelNames: ['operation'] as const,
      registers: [registry],
    }),
    signingFailures: new Counter({
      name: 'continuum_token_signing_failures_total',
      help: 'Access tokens that could not be signed.',
      registers: [registry],
    }),
    stateCorrupt: new Counter({
      name: 'continuum_state_corrupt_total',
      help: 'Requests answered 500 state_corrupt (a hash chain or ciphertext failed its integrity check).',
      registers: [registry],
    }),
    componentUp: new Gauge({
      name: 'continuum_component_up',
      help: 'Result of the last readiness check of each component: 1 passing, 0 failing.',
      labelNames: ['component'] as const,
      registers: [registry],
    }),
    alertsFiring: new Gauge({
      name: 'continuum_alerts_firing',
      help: 'Alerts firing now on this node, by alert id (1 firing, 0 not).',
      labelNames: ['alert'] as const,
      registers: [registry],
    }),
    sqliteCheckpoints: new Counter({
      name: 'continuum_sqlite_checkpoints_total',
      help: 'Background WAL checkpoints of the SQLite store by outcome: complete, partial (frames left for open readers), busy, failed, handed_back (checkpoints went back to SQLite).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    sqliteCheckpointSeconds: new Histogram({
      name: 'continuum_sqlite_checkpoint_seconds',
      help: 'Time a background WAL checkpoint of the SQLite store took on its thread.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    alertWebhook: new Counter({
      name: 'continuum_alert_webhook_total',
      help: 'Alert webhook deliveries by outcome: delivered, retried, failed (gave up), dropped (queue full).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    samplers,
  };
}

/** Figures read only when metrics are collected, supplied by the parts that own them. */
export interface MetricSamplers {
  /** Active sessions and the fullest tenant's share of its cap. */
  sessionPool?: () => Promise<{ active: number; occupancy: number }>;
}

export type Metrics = ReturnType<typeof createMetrics>;
