import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { AuditTrail, type AuditTrailOptions } from '../audit/audit-trail.ts';
import { SigningKeyring } from '../auth/signing-keys.ts';
import { TokenService } from '../auth/token-service.ts';
import type { Config } from '../config/index.ts';
import { registerConsole } from '../console/plugin.ts';
import { ContextService } from '../context/context-service.ts';
import { SYSTEM_PROMPT } from '../context/system-prompt.ts';
import { ConversationService } from '../conversations/conversation-service.ts';
import { ParticipantAccess } from '../conversations/participant-access.ts';
import { ParticipantService } from '../conversations/participant-service.ts';
import { newSessionIdSecret, SESSION_ID_SECRET } from '../conversations/session-id.ts';
import { SessionPool } from '../conversations/session-pool.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import { createTenantCipher, type TenantCipher } from '../crypto/data-keys.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import { FlagService } from '../flags/index.ts';
import { createIntentRouter, createModelIntentClassifier, type IntentRouter } from '../intents/index.ts';
import { createModelProvider } from '../models/create-model-provider.ts';
import type { ModelProvider } from '../models/port.ts';
import { MeteredStreamManager } from '../observability/metered-streams.ts';
import { createMetrics, type Metrics } from '../observability/metrics.ts';
import { observeSessions } from '../observability/observed-sessions.ts';
import { observeStore } from '../observability/observed-store.ts';
import { Operations } from '../observability/operations.ts';
import { installRequestObservers } from '../observability/request-hooks.ts';
import { WatchedAccessTokens } from '../observability/watched-access-tokens.ts';
import { ReplyService } from '../replies/reply-service.ts';
import type { Store } from '../store/port.ts';
import { EventLog } from '../streaming/replay-buffer.ts';
import { createSealedReplayStore } from '../streaming/sealed-replay-store.ts';
import { createMemoryEventBus, type EventBus } from '../sync/event-bus.ts';
import { createRedisEventBus } from '../sync/redis-event-bus.ts';
import { SyncHub } from '../sync/sync-hub.ts';
import { createSyncedReplayStore, newSyncNodeId } from '../sync/synced-replay-store.ts';
import { TenantService } from '../tenants/tenant-service.ts';
import { drainInFlight, stopListening, trackRequests } from './drain.ts';
import { createRedisLimits } from './limits/index.ts';
import { contextModels, modelConfigOf } from './model-config.ts';
import { collectAuditDeclarations, withAuditExtensions } from './plugins/audit-declarations.ts';
import { createAuthHooks } from './plugins/auth.ts';
import { registerInputGuards } from './plugins/input-guards.ts';
import { handleClientError, handleFrameworkError, registerProblemHandlers } from './plugins/problems.ts';
import { createValidatorCompiler } from './plugins/validation.ts';
import { TokenBucketLimiter } from './rate-limiter.ts';
import { requestIds } from './request-ids.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerAlertRoutes } from './routes/alerts.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerAuthRoutes } from './routes/auth.ts';
import { registerContextRoutes } from './routes/context.ts';
import { registerConversationRoutes } from './routes/conversations.ts';
import { registerEventRoutes } from './routes/events.ts';
import { registerFlagRoutes } from './routes/flags.ts';
import { componentProbes, registerOpsRoutes } from './routes/ops.ts';
import { registerParticipantRoutes } from './routes/participants.ts';
import { registerSyncRoutes } from './routes/sync.ts';
import type { Services } from './services.ts';
import { endOpenStreams } from './sse-replies.ts';

export interface AppDeps {
  /** A migrated store. */
  store: Store;
  keyProvider: KeyProvider;
  /** The operator token (resolved by the caller: setting, data-dir file, or generated). */
  adminToken: string;
  clock?: Clock;
  bus?: EventBus;
  metrics?: Metrics;
  /** `false` for no logs; by default pino at the configured level, redacted. */
  logger?: false;
  /**
   * Replace the per-tenant envelope cipher (ADR-008). Only benchmarks that
   * measure what encryption costs pass another one; production never does.
   */
  cipher?: TenantCipher;
  /** Build the audit trail from its options (benchmarks measuring what auditing costs). */
  auditTrail?: (options: AuditTrailOptions) => AuditTrail;
  /** The model provider; by default the one `CONTINUUM_MODEL` names. */
  model?: ModelProvider;
  /** The intent router; the built-in rules by default. */
  intentRouter?: IntentRouter;
  /** Where the (redacted) log lines go; stdout by default. */
  logStream?: { write(line: string): void };
}

export interface ContinuumApp {
  app: FastifyInstance;
  services: Services;
}

/** Headers and fields that must never reach a log line. */
export const LOG_REDACTIONS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
];

/**
 * The composition root: wires adapters into services and routes. Does no
 * I/O beyond what the given store and key provider need to initialize.
 *
 * @example
 * const { app } = await buildApp(loadConfig(process.env), { store, keyProvider, adminToken });
 * await app.listen({ port: 8080 });
 */
export async function buildApp(config: Config, deps: AppDeps): Promise<ContinuumApp> {
  // CONTINUUM_CLOCK_OFFSET shifts this node's time: drills skew one node, load tests let simulated days pass.
  const offsetMs = config.clockOffset * 1000;
  const clock = deps.clock ?? (offsetMs === 0 ? systemClock : { now: () => Date.now() + offsetMs });
  const metrics = deps.metrics ?? createMetrics();
  // Set once Fastify exists; the Redis adapters report through it from then on.
  let appLog: FastifyBaseLogger | undefined;
  // Alerts, readiness and EMF; the store reports its failures and refresh-token outcomes into them.
  const operations = new Operations({
    clock,
    metrics,
    metricsMode: config.metrics,
    metricsIntervalMs: config.metricsInterval * 1000,
    ...(config.alertWebhook === undefined ? {} : { alertWebhook: config.alertWebhook }),
    ...(deps.logStream === undefined ? {} : { writeEmf: (line: string) => deps.logStream?.write(line) }),
    log: () => appLog,
  });
  const store = observeStore(deps.store, metrics, {
    unavailable: () => operations.componentFailed('store'),
    refreshed: operations.refreshed,
  });
  // With Redis, every node sees every node's events, and limits hold across nodes; without it, each node keeps its own.
  const limits =
    config.redisUrl === undefined
      ? undefined
      : createRedisLimits({
          url: config.redisUrl,
          prefix: config.redisPrefix,
          clock,
          ratePerTenant: config.rateLimitPerTenant,
          ratePerSubject: config.rateLimitPerSubject,
          maxSessionsPerTenant: config.maxSessionsPerTenant,
          sessionIdleTtlMs: config.sessionIdleTtl * 1000,
          maxStreamsPerTenant: config.maxStreamsPerTenant,
          streamMaxWaitMs: config.streamMaxWait * 1000,
          onFallback: ({ operation }) => metrics.sharedStateFallbacks.inc({ operation }),
          onError: (error) => appLog?.warn({ err: error }, 'Redis unreachable: limits are node-local until it returns'),
        });
  const ownBus = deps.bus === undefined;
  const bus =
    deps.bus ??
    (config.redisUrl === undefined
      ? createMemoryEventBus({ onHandlerError: (error) => appLog?.error({ err: error }, 'event handler failed') })
      : createRedisEventBus({
          url: config.redisUrl,
          prefix: config.redisPrefix,
          onError: (error) => {
            metrics.busErrors.inc();
            operations.componentFailed('bus');
            appLog?.warn({ err: error }, 'event bus failure');
          },
          onHandlerError: (error) => appLog?.error({ err: error }, 'event handler failed'),
        }));

  const keyring = new SigningKeyring({ store, clock });
  await keyring.init();
  const auditOptions: AuditTrailOptions = {
    store,
    clock,
    keyring,
    checkpointEvery: config.auditCheckpointEvery,
    checkpointIntervalMs: config.auditCheckpointInterval * 1000,
  };
  const audit = deps.auditTrail?.(auditOptions) ?? new AuditTrail(auditOptions);
  // Feature flags: CONTINUUM_FLAGS seeds what the store lacks; the store wins after that.
  const flags = new FlagService({
    store,
    clock,
    audit,
    seeds: config.flags ?? [],
    onError: (error) => appLog?.warn({ err: error }, 'feature flags could not be re-read; keeping the last copy'),
  });
  await flags.start();
  const accessTokens = new WatchedAccessTokens({
    onSigningFailure: operations.signingFailed,
    keyring,
    clock,
    issuer: config.issuer,
    audience: config.audience,
    ttlSeconds: config.accessTokenTtl,
    clockToleranceSeconds: config.clockToleranceSeconds,
  });
  const tokens = new TokenService({
    store,
    clock,
    accessTokens,
    audit,
    refreshTtlSeconds: config.refreshTokenTtl,
    familyTtlSeconds: config.refreshFamilyTtl,
  });
  const cipher = deps.cipher ?? createTenantCipher({ keys: deps.keyProvider, repository: store, clock });
  const sessions = observeSessions(
    limits?.sessions ??
      new SessionPool({
        clock,
        maxPerTenant: config.maxSessionsPerTenant,
        idleTtlMs: config.sessionIdleTtl * 1000,
      }),
    { metrics, clock, maxPerTenant: config.maxSessionsPerTenant, idleTtlMs: config.sessionIdleTtl * 1000 },
  );
  const sessionIdSecret = await store.getOrCreateSecret(SESSION_ID_SECRET, newSessionIdSecret);
  const intents = deps.intentRouter ?? createIntentRouter();
  const model = deps.model ?? createModelProvider(modelConfigOf(config));
  // Every node stores events in the same log and announces them on the bus, so followers anywhere see them (ADR-006).
  const syncNode = newSyncNodeId();
  const syncedEvents = createSyncedReplayStore(createSealedReplayStore(store, cipher), {
    bus,
    node: syncNode,
    onForeignEvents: (tenantId, conversationId) => events.wake(tenantId, conversationId),
    onError: (error) => appLog?.warn({ err: error }, 'event notice not published'),
  });
  const events: EventLog = new EventLog({
    store: syncedEvents,
    onError: (error) => appLog?.error({ err: error }, 'event log failure'),
  });
  const participantAccess = new ParticipantAccess({ store, clock });
  // The turn engine tells the working context of each append; the context reads turns through the engine.
  let context: ContextService | undefined;
  const conversations = new ConversationService({
    store,
    clock,
    bus,
    cipher,
    sessions,
    audit,
    metrics,
    sessionIdSecret,
    participants: participantAccess,
    onAppended: async (conversation, turn) => {
      // The working context takes the turn in after the response: an append does not wait for
      // extraction and folding, and a context read catches up with whatever is still pending.
      // Continuity: the load verified the chain; the turn found its full prior context once the
      // working context holds every turn through it (docs/OPERATIONS.md).
      context?.takeIn(conversation, [turn]).then(
        (state) => {
          operations.turnContinuity(state.throughTurn >= turn.number ? 'whole' : 'context_failed');
          // Sync clients learn that the summary and profile moved on (no content on the bus).
          bus
            .publish({
              type: 'context.updated',
              tenantId: conversation.tenantId,
              conversationId: conversation.id,
              throughTurn: state.throughTurn,
              at: new Date(clock.now()).toISOString(),
            })
            .catch(() => undefined);
        },
        (error: unknown) => {
          operations.turnContinuity('context_failed');
          metrics.contextUpdateFailures.inc();
          appLog?.error({ err: error }, 'working context update failed');
        },
      );
      // Followers of the conversation's event stream see every turn.
      const event = await events.append(conversation.tenantId, conversation.id, {
        turn: turn.number,
        event: 'turn',
        data: JSON.stringify(turn),
      });
      return event.id;
    },
  });
  context = new ContextService({
    store,
    clock,
    cipher,
    ...contextModels(config, model, metrics, (tenantId) => flags.isEnabled('model-context', tenantId)),
    useRetrieval: (tenantId) => flags.isEnabled('retrieval', tenantId),
    readTurns: (tenantId, conversation, after, limit, options) =>
      conversations.readTurns(tenantId, conversation, after, limit, options),
    readTurnsAt: (tenantId, conversation, numbers) => conversations.readTurnsAt(tenantId, conversation, numbers),
    budgetTokens: config.contextTokens,
    recentMessages: config.contextRecentMessages,
    recentTokens: config.contextRecentTokens,
    retrievedTokens: config.contextRetrievedTokens,
    profileTokens: config.contextProfileTokens,
    maxAgeMs: config.contextMaxAge * 1000,
    systemPrompt: SYSTEM_PROMPT,
    metrics,
  });
  // This node's scheduler orders its own waiters by priority; with Redis, the tenant's limit also holds across nodes.
  const localStreams = new MeteredStreamManager({
    metrics,
    maxConcurrentPerTenant: config.maxStreamsPerTenant,
    maxWaitMs: config.streamMaxWait * 1000,
    clock,
  });
  const services: Services = {
    config,
    clock,
    store,
    bus,
    keyProvider: deps.keyProvider,
    cipher,
    keyring,
    accessTokens,
    tokens,
    audit,
    flags,
    tenants: new TenantService({ store, clock, audit }),
    conversations,
    context,
    intents,
    model,
    events,
    replies: new ReplyService({
      conversations,
      context,
      model,
      intents,
      events,
      streams: limits === undefined ? localStreams : limits.streams(localStreams),
      metrics,
      maxReplyTokens: config.modelMaxTokens,
      maxWaitMs: config.streamMaxWait * 1000,
      coalesce: { maxBytes: config.sseFlushBytes, maxDelayMs: config.sseFlushMs },
      onEscalation: operations.escalated,
      ...(config.intentModel && model.kind !== 'local'
        ? {
            modelIntents: createModelIntentClassifier({
              model,
              router: intents,
              onFallback: (reason) => metrics.modelFallbacks.inc({ part: 'intent', reason }),
            }),
          }
        : {}),
      onError: (error) => appLog?.error({ err: error }, 'reply stream failure'),
    }),
    sessions,
    metrics,
    operations,
    participants: new ParticipantService({ store, clock, audit, bus, conversations, access: participantAccess }),
    sync: new SyncHub({
      bus,
      events,
      node: syncNode,
      clock,
      pingIntervalMs: config.syncPingInterval * 1000,
      onNotice: (tenantId, conversationId, eventId) => syncedEvents.noticed(tenantId, conversationId, eventId),
      onCount: (count) => metrics.websocketConnections.set(count),
      onError: (error) => appLog?.warn({ err: error }, 'sync failure'),
    }),
    auth: createAuthHooks({
      accessTokens,
      tokens,
      adminToken: deps.adminToken,
      tenantLimiter:
        limits?.tenantLimiter ?? new TokenBucketLimiter({ clock, ratePerSecond: config.rateLimitPerTenant }),
      subjectLimiter:
        limits?.subjectLimiter ?? new TokenBucketLimiter({ clock, ratePerSecond: config.rateLimitPerSubject }),
      metrics,
    }),
  };

  const app = Fastify({
    logger: deps.logger ?? {
      level: config.logLevel,
      ...(deps.logStream === undefined ? {} : { stream: deps.logStream }),
      redact: { paths: LOG_REDACTIONS, censor: '[redacted]' },
      serializers: {
        // Paths only: query strings may carry search text.
        req: (req) => ({ method: req.method, url: req.url.split('?')[0], remoteAddress: req.ip }),
      },
    },
    bodyLimit: config.bodyLimit,
    genReqId: requestIds(),
    requestIdHeader: false,
    trustProxy: false,
    // Open SSE responses are ended in preClose; then every socket goes, so a stop never hangs on a client.
    forceCloseConnections: true,
    // Errors raised before routing (a malformed path, bytes that are not HTTP) are problem documents too.
    frameworkErrors: handleFrameworkError,
    clientErrorHandler: handleClientError,
  });
  app.setValidatorCompiler(createValidatorCompiler());
  // Bodies are JSON only: anything else is 415, including text/plain.
  app.removeContentTypeParser('text/plain');
  registerInputGuards(app);
  const auditDeclarations = collectAuditDeclarations(app);
  registerProblemHandlers(app);
  trackRequests(app);
  // Each API request sees flags at most 5 s old (one store read per node per interval, shared).
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/v1/')) await flags.refreshIfStale();
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  installRequestObservers(app, metrics, operations);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Continuum',
        version: '1',
        description: 'Conversational context server: memory that outlives tokens, strictly ordered turns.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          operatorToken: { type: 'http', scheme: 'bearer', description: 'CONTINUUM_ADMIN_TOKEN' },
        },
      },
    },
    transformObject: withAuditExtensions(auditDeclarations) as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerOpsRoutes(app, services);
  registerAuthRoutes(app, services);
  registerAdminRoutes(app, services);
  registerConversationRoutes(app, services);
  registerAuditRoutes(app, services);
  registerContextRoutes(app, services);
  registerEventRoutes(app, services);
  registerFlagRoutes(app, services);
  registerParticipantRoutes(app, services);
  await registerSyncRoutes(app, services);
  registerAlertRoutes(app, services);
  registerConsole(app);
  operations.start(componentProbes(services));
  // A stop (SIGTERM): no new connections are taken and new requests get 503 (with `Connection: close`, so a
  // kept-alive client learns it was not served rather than losing its socket); in-flight requests and
  // replies get CONTINUUM_SHUTDOWN_GRACE seconds to finish; then every SSE stream ends with a resumable event.
  app.addHook('preClose', async () => {
    if (app.server.listening) stopListening(app.server);
    const unfinished = await drainInFlight(app, config.shutdownGrace * 1000);
    if (unfinished > 0) {
      app.log.warn({ unfinished }, 'shutdown grace period over; cutting off what is still running');
      // Replies still generating end with `event: error` reply_interrupted, so no client waits for them in vain.
      const cut = await services.replies.interrupt();
      if (cut > 0) app.log.warn({ replies: cut }, 'replies cut off by the stop');
    }
    await endOpenStreams(app);
  });
  app.addHook('onClose', async () => {
    await operations.close();
    await limits?.close();
    if (ownBus) await bus.close();
  });
  appLog = app.log;
  audit.setLogger(app.log);
  await app.ready();
  return { app, services };
}
