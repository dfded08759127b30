import { randomBytes } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { AuditTrail, type AuditTrailOptions } from '../audit/audit-trail.ts';
import { AccessTokens } from '../auth/access-tokens.ts';
import { SigningKeyring } from '../auth/signing-keys.ts';
import { TokenService } from '../auth/token-service.ts';
import type { Config } from '../config/index.ts';
import { ContextService } from '../context/context-service.ts';
import { SYSTEM_PROMPT } from '../context/system-prompt.ts';
import { ConversationService } from '../conversations/conversation-service.ts';
import { SessionPool } from '../conversations/session-pool.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import { createTenantCipher, type TenantCipher } from '../crypto/data-keys.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import { createIntentRouter, type IntentRouter } from '../intents/index.ts';
import { createModelProvider } from '../models/create-model-provider.ts';
import type { ModelProvider } from '../models/port.ts';
import { createMetrics, type Metrics } from '../observability/metrics.ts';
import { ReplyService } from '../replies/reply-service.ts';
import type { Store } from '../store/port.ts';
import { EventLog } from '../streaming/replay-buffer.ts';
import { MultiStreamManager } from '../streaming/scheduler.ts';
import { createSealedReplayStore } from '../streaming/sealed-replay-store.ts';
import { createMemoryEventBus, type EventBus } from '../sync/event-bus.ts';
import { createRedisEventBus } from '../sync/redis-event-bus.ts';
import { TenantService } from '../tenants/tenant-service.ts';
import { createRedisLimits } from './limits/index.ts';
import { contextModels, modelConfigOf } from './model-config.ts';
import { collectAuditDeclarations, withAuditExtensions } from './plugins/audit-declarations.ts';
import { createAuthHooks } from './plugins/auth.ts';
import { registerProblemHandlers } from './plugins/problems.ts';
import { createValidatorCompiler } from './plugins/validation.ts';
import { TokenBucketLimiter } from './rate-limiter.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerAuthRoutes } from './routes/auth.ts';
import { registerContextRoutes } from './routes/context.ts';
import { registerConversationRoutes } from './routes/conversations.ts';
import { registerEventRoutes } from './routes/events.ts';
import { registerOpsRoutes } from './routes/ops.ts';
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
  const clock = deps.clock ?? systemClock;
  const { store } = deps;
  const metrics = deps.metrics ?? createMetrics();
  // Set once Fastify exists; the Redis adapters report through it from then on.
  let appLog: FastifyBaseLogger | undefined;
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
  const accessTokens = new AccessTokens({
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
  const sessions =
    limits?.sessions ??
    new SessionPool({
      clock,
      maxPerTenant: config.maxSessionsPerTenant,
      idleTtlMs: config.sessionIdleTtl * 1000,
    });
  const sessionIdSecret = await store.getOrCreateSecret('session-id-secret', () =>
    randomBytes(32).toString('base64url'),
  );
  const intents = deps.intentRouter ?? createIntentRouter();
  const model = deps.model ?? createModelProvider(modelConfigOf(config));
  const events = new EventLog({
    store: createSealedReplayStore(store, cipher),
    onError: (error) => appLog?.error({ err: error }, 'event log failure'),
  });
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
    onAppended: async (conversation, turn) => {
      // The working context takes the turn in after the response: an append does not wait for
      // extraction and folding, and a context read catches up with whatever is still pending.
      context?.advanceLater(conversation, [turn], (error) => {
        metrics.contextUpdateFailures.inc();
        appLog?.error({ err: error }, 'working context update failed');
      });
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
    ...contextModels(config, model, metrics),
    readTurns: (tenantId, conversation, after, limit) => conversations.readTurns(tenantId, conversation, after, limit),
    budgetTokens: config.contextTokens,
    recentMessages: config.contextRecentMessages,
    recentTokens: config.contextRecentTokens,
    retrievedTokens: config.contextRetrievedTokens,
    profileTokens: config.contextProfileTokens,
    maxAgeMs: config.contextMaxAge * 1000,
    systemPrompt: SYSTEM_PROMPT,
    metrics,
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
      streams: new MultiStreamManager({
        maxConcurrentPerTenant: config.maxStreamsPerTenant,
        maxWaitMs: config.streamMaxWait * 1000,
        clock,
      }),
      metrics,
      maxReplyTokens: config.modelMaxTokens,
      maxWaitMs: config.streamMaxWait * 1000,
      coalesce: { maxBytes: config.sseFlushBytes, maxDelayMs: config.sseFlushMs },
      onError: (error) => appLog?.error({ err: error }, 'reply stream failure'),
    }),
    sessions,
    metrics,
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
    genReqId: () => `req_${randomBytes(8).toString('hex')}`,
    requestIdHeader: false,
    trustProxy: false,
    // Open SSE responses are ended in preClose; then every socket goes, so a stop never hangs on a client.
    forceCloseConnections: true,
  });
  app.setValidatorCompiler(createValidatorCompiler());
  // Bodies are JSON only: anything else is 415, including text/plain.
  app.removeContentTypeParser('text/plain');
  const auditDeclarations = collectAuditDeclarations(app);
  registerProblemHandlers(app);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.requests.inc({
      route,
      outcome: status >= 500 ? 'server_error' : status >= 400 ? 'client_error' : 'success',
    });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });

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
  app.addHook('preClose', async () => endOpenStreams(app));
  app.addHook('onClose', async () => {
    await limits?.close();
    if (ownBus) await bus.close();
  });
  appLog = app.log;
  audit.setLogger(app.log);
  await app.ready();
  return { app, services };
}
