import { type FlagSeed, flagsSetting } from '../flags/flag-input.ts';
import {
  boolean,
  ConfigError,
  host,
  identifier,
  integer,
  number,
  oneOf,
  type SettingSpec,
  text,
  url,
} from './schema.ts';

export const STORES = ['sqlite', 'postgres', 'dynamodb'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const KEY_PROVIDERS = ['local', 'kms'] as const;
export const MODELS = ['local', 'anthropic', 'bedrock', 'openai'] as const;
export const SQLITE_SYNC_MODES = ['normal', 'full'] as const;
export const METRICS_MODES = ['prometheus', 'emf', 'both'] as const;

const spec = <T>(env: string, def: T | undefined, description: string, parse: (raw: string) => T): SettingSpec<T> => ({
  env,
  default: def,
  description,
  parse,
});

/**
 * The settings table. Order is the README's order. A default of `undefined`
 * means "unset unless given" (explained in the description).
 */
export const SETTINGS = {
  host: spec('CONTINUUM_HOST', '127.0.0.1', 'Address the HTTP server binds to.', host('CONTINUUM_HOST')),
  port: spec('CONTINUUM_PORT', 8080, 'TCP port (0 picks a free one).', integer('CONTINUUM_PORT', 0, 65535)),
  dataDir: spec(
    'CONTINUUM_DATA_DIR',
    './data',
    'Directory for the SQLite database, the generated admin token and local keys.',
    text('CONTINUUM_DATA_DIR'),
  ),
  adminToken: spec<string>(
    'CONTINUUM_ADMIN_TOKEN',
    undefined,
    'Operator bearer token. When unset, one is generated on first start, stored in `<data dir>/admin-token` (mode 0600) and printed once.',
    text('CONTINUUM_ADMIN_TOKEN', { minLength: 16 }),
  ),
  store: spec(
    'CONTINUUM_STORE',
    'sqlite' as (typeof STORES)[number],
    'Store adapter.',
    oneOf('CONTINUUM_STORE', STORES),
  ),
  databaseUrl: spec<string>(
    'CONTINUUM_DATABASE_URL',
    undefined,
    'PostgreSQL connection URL (with `CONTINUUM_STORE=postgres`).',
    url('CONTINUUM_DATABASE_URL', ['postgres:', 'postgresql:']),
  ),
  databaseSchema: spec(
    'CONTINUUM_DATABASE_SCHEMA',
    'public',
    "PostgreSQL schema holding Continuum's tables (created by `continuum migrate` if missing).",
    identifier('CONTINUUM_DATABASE_SCHEMA'),
  ),
  databasePoolSize: spec(
    'CONTINUUM_DATABASE_POOL_SIZE',
    50,
    'PostgreSQL connections per node.',
    integer('CONTINUUM_DATABASE_POOL_SIZE', 1, 1000),
  ),
  dynamodbTable: spec(
    'CONTINUUM_DYNAMODB_TABLE',
    'continuum',
    'DynamoDB table (with `CONTINUUM_STORE=dynamodb`); create it with `continuum dynamodb create-table`.',
    text('CONTINUUM_DYNAMODB_TABLE', { minLength: 3 }),
  ),
  dynamodbEndpoint: spec<string>(
    'CONTINUUM_DYNAMODB_ENDPOINT',
    undefined,
    'DynamoDB endpoint URL override (a VPC endpoint, or DynamoDB Local / dynalite).',
    url('CONTINUUM_DYNAMODB_ENDPOINT', ['http:', 'https:']),
  ),
  dynamodbRegion: spec<string>(
    'CONTINUUM_DYNAMODB_REGION',
    undefined,
    'AWS region of the DynamoDB table. When unset: `AWS_REGION`, else `us-east-1`.',
    text('CONTINUUM_DYNAMODB_REGION'),
  ),
  redisUrl: spec<string>(
    'CONTINUUM_REDIS_URL',
    undefined,
    'Redis URL. When set, nodes share events, rate-limit buckets and session counts through it; when unset, each node keeps its own.',
    url('CONTINUUM_REDIS_URL', ['redis:', 'rediss:']),
  ),
  redisPrefix: spec(
    'CONTINUUM_REDIS_PREFIX',
    'continuum:',
    'Prefix of every Redis key and channel, so several deployments can share one Redis.',
    text('CONTINUUM_REDIS_PREFIX'),
  ),
  sqliteSync: spec(
    'CONTINUUM_SQLITE_SYNC',
    'normal' as (typeof SQLITE_SYNC_MODES)[number],
    'SQLite `synchronous` in WAL mode: `normal` survives a process crash (kill -9); `full` also survives power loss, at the cost of an fsync per commit.',
    oneOf('CONTINUUM_SQLITE_SYNC', SQLITE_SYNC_MODES),
  ),
  keyProvider: spec(
    'CONTINUUM_KEY_PROVIDER',
    'local' as (typeof KEY_PROVIDERS)[number],
    'Where the master key that wraps tenant data keys lives: `local` (env or key file) or `kms` (AWS KMS).',
    oneOf('CONTINUUM_KEY_PROVIDER', KEY_PROVIDERS),
  ),
  masterKey: spec<string>(
    'CONTINUUM_MASTER_KEY',
    undefined,
    'Local master key, base64 of 32 bytes. When unset, `<data dir>/master-keys.json` (mode 0600) is generated on first start.',
    text('CONTINUUM_MASTER_KEY', { minLength: 43 }),
  ),
  kmsKeyId: spec<string>(
    'CONTINUUM_KMS_KEY_ID',
    undefined,
    'KMS key id or ARN (with `CONTINUUM_KEY_PROVIDER=kms`).',
    text('CONTINUUM_KMS_KEY_ID'),
  ),
  kmsEndpoint: spec<string>(
    'CONTINUUM_KMS_ENDPOINT',
    undefined,
    'KMS endpoint URL override (e.g. a VPC endpoint).',
    url('CONTINUUM_KMS_ENDPOINT', ['http:', 'https:']),
  ),
  auditCheckpointEvery: spec(
    'CONTINUUM_AUDIT_CHECKPOINT_EVERY',
    100,
    'Sign an audit checkpoint after this many events of a tenant written by one node.',
    integer('CONTINUUM_AUDIT_CHECKPOINT_EVERY', 1, 1_000_000),
  ),
  auditCheckpointInterval: spec(
    'CONTINUUM_AUDIT_CHECKPOINT_INTERVAL',
    60,
    'Or after this many seconds since the last checkpoint, at the next event.',
    integer('CONTINUUM_AUDIT_CHECKPOINT_INTERVAL', 1, 86_400),
  ),
  issuer: spec('CONTINUUM_ISSUER', 'continuum', 'JWT `iss` of access tokens.', text('CONTINUUM_ISSUER')),
  audience: spec('CONTINUUM_AUDIENCE', 'continuum-api', 'JWT `aud` of access tokens.', text('CONTINUUM_AUDIENCE')),
  accessTokenTtl: spec(
    'CONTINUUM_ACCESS_TOKEN_TTL',
    1800,
    'Access token lifetime in seconds.',
    integer('CONTINUUM_ACCESS_TOKEN_TTL', 30, 86_400),
  ),
  refreshTokenTtl: spec(
    'CONTINUUM_REFRESH_TOKEN_TTL',
    43_200,
    'Refresh token lifetime in seconds (each refresh issues a new one).',
    integer('CONTINUUM_REFRESH_TOKEN_TTL', 60, 90 * 86_400),
  ),
  refreshFamilyTtl: spec(
    'CONTINUUM_REFRESH_FAMILY_TTL',
    604_800,
    'Absolute lifetime of a refresh-token family in seconds; after it the client signs in again with its API key.',
    integer('CONTINUUM_REFRESH_FAMILY_TTL', 60, 365 * 86_400),
  ),
  clockToleranceSeconds: spec(
    'CONTINUUM_CLOCK_TOLERANCE',
    5,
    'Seconds of clock skew tolerated when checking `exp`/`nbf`.',
    integer('CONTINUUM_CLOCK_TOLERANCE', 0, 300),
  ),
  clockOffset: spec(
    'CONTINUUM_CLOCK_OFFSET',
    0,
    "Seconds added to this node's clock (negative: behind). For fault drills and load tests that skew one node or let simulated days pass (`load/`); leave `0` in production.",
    integer('CONTINUUM_CLOCK_OFFSET', -315_360_000, 315_360_000),
  ),
  sessionIdleTtl: spec(
    'CONTINUUM_SESSION_IDLE_TTL',
    3600,
    'Seconds after its last request that a conversation session stops counting as active.',
    integer('CONTINUUM_SESSION_IDLE_TTL', 1, 7 * 86_400),
  ),
  maxSessionsPerTenant: spec(
    'CONTINUUM_MAX_SESSIONS_PER_TENANT',
    50,
    'Active conversation sessions a tenant may hold at once (`0` = no limit).',
    integer('CONTINUUM_MAX_SESSIONS_PER_TENANT', 0, 10_000_000),
  ),
  maxStreamsPerTenant: spec(
    'CONTINUUM_MAX_STREAMS_PER_TENANT',
    5,
    'Concurrent model reply streams per tenant (across all nodes when `CONTINUUM_REDIS_URL` is set); more wait in a priority queue (high, normal, low, with aging).',
    integer('CONTINUUM_MAX_STREAMS_PER_TENANT', 1, 10_000),
  ),
  rateLimitPerTenant: spec(
    'CONTINUUM_RATE_LIMIT_PER_TENANT',
    200,
    'Sustained requests per second per tenant; bursts up to twice that (`0` = off).',
    number('CONTINUUM_RATE_LIMIT_PER_TENANT', 0, 1_000_000),
  ),
  rateLimitPerSubject: spec(
    'CONTINUUM_RATE_LIMIT_PER_SUBJECT',
    20,
    'Sustained requests per second per subject; bursts up to twice that (`0` = off).',
    number('CONTINUUM_RATE_LIMIT_PER_SUBJECT', 0, 1_000_000),
  ),
  bodyLimit: spec(
    'CONTINUUM_BODY_LIMIT',
    262_144,
    'Largest request body in bytes.',
    integer('CONTINUUM_BODY_LIMIT', 1024, 16 * 1024 * 1024),
  ),
  maxTurnChars: spec(
    'CONTINUUM_MAX_TURN_CHARS',
    32_000,
    'Longest turn content in characters.',
    integer('CONTINUUM_MAX_TURN_CHARS', 1, 1_000_000),
  ),
  contextTokens: spec(
    'CONTINUUM_CONTEXT_TOKENS',
    4000,
    'Token budget of the working context a model receives (counted with the o200k tokenizer).',
    integer('CONTINUUM_CONTEXT_TOKENS', 256, 1_000_000),
  ),
  contextRecentMessages: spec(
    'CONTINUUM_CONTEXT_RECENT_MESSAGES',
    10,
    'Most messages kept verbatim in the working context (see also `CONTINUUM_CONTEXT_RECENT_TOKENS`); older ones fold into the rolling summary.',
    integer('CONTINUUM_CONTEXT_RECENT_MESSAGES', 1, 1000),
  ),
  contextRecentTokens: spec(
    'CONTINUUM_CONTEXT_RECENT_TOKENS',
    100,
    'Token budget of the messages kept verbatim, counted from the latest back as the prompt sends them (framing included); older ones fold into the rolling summary. The last 2 messages are always kept.',
    integer('CONTINUUM_CONTEXT_RECENT_TOKENS', 16, 1_000_000),
  ),
  contextRetrievedTokens: spec(
    'CONTINUUM_CONTEXT_RETRIEVED_TOKENS',
    300,
    'Token budget of the older turns retrieved (BM25) into the working context for the next message: at most 5, filled best first, a turn that does not fit is skipped; a message of pleasantries only retrieves nothing.',
    integer('CONTINUUM_CONTEXT_RETRIEVED_TOKENS', 16, 1_000_000),
  ),
  contextProfileTokens: spec(
    'CONTINUUM_CONTEXT_PROFILE_TOKENS',
    1000,
    'Token budget of the profile block: allergies, current medications and conditions first, then history, people and the rest, most recently mentioned first; the whole profile is at `GET …/profile`.',
    integer('CONTINUUM_CONTEXT_PROFILE_TOKENS', 50, 100_000),
  ),
  contextMaxAge: spec(
    'CONTINUUM_CONTEXT_MAX_AGE',
    86_400,
    'Seconds after which a message leaves the working context (it stays in the record and in search).',
    integer('CONTINUUM_CONTEXT_MAX_AGE', 60, 365 * 86_400),
  ),
  summaryMaxWords: spec(
    'CONTINUUM_SUMMARY_MAX_WORDS',
    40,
    'Word cap of the rolling summary. The summary holds what the profile does not (the profile carries medications, allergies, conditions, people, dates), so it can stay small.',
    integer('CONTINUUM_SUMMARY_MAX_WORDS', 50, 10_000),
  ),
  model: spec(
    'CONTINUUM_MODEL',
    'local' as (typeof MODELS)[number],
    'Model provider for replies: `local` (embedded offline responder, for trying Continuum out — use a real model in production), `anthropic`, `bedrock` or `openai` (any OpenAI-compatible server).',
    oneOf('CONTINUUM_MODEL', MODELS),
  ),
  modelMaxTokens: spec(
    'CONTINUUM_MODEL_MAX_TOKENS',
    1024,
    'Upper bound on the tokens of one reply.',
    integer('CONTINUUM_MODEL_MAX_TOKENS', 16, 200_000),
  ),
  localWordDelayMs: spec(
    'CONTINUUM_LOCAL_WORD_DELAY_MS',
    15,
    'Pace of the local responder: milliseconds between streamed words.',
    integer('CONTINUUM_LOCAL_WORD_DELAY_MS', 0, 10_000),
  ),
  anthropicApiKey: spec<string>(
    'CONTINUUM_ANTHROPIC_API_KEY',
    undefined,
    'API key (with `CONTINUUM_MODEL=anthropic`).',
    text('CONTINUUM_ANTHROPIC_API_KEY'),
  ),
  anthropicBaseUrl: spec<string>(
    'CONTINUUM_ANTHROPIC_BASE_URL',
    undefined,
    'Anthropic API base URL override (a gateway or proxy).',
    url('CONTINUUM_ANTHROPIC_BASE_URL', ['http:', 'https:']),
  ),
  anthropicModel: spec<string>(
    'CONTINUUM_ANTHROPIC_MODEL',
    undefined,
    'Claude model id (the adapter has a default).',
    text('CONTINUUM_ANTHROPIC_MODEL'),
  ),
  openaiApiKey: spec<string>(
    'CONTINUUM_OPENAI_API_KEY',
    undefined,
    'API key (with `CONTINUUM_MODEL=openai`; optional for local servers).',
    text('CONTINUUM_OPENAI_API_KEY'),
  ),
  openaiBaseUrl: spec<string>(
    'CONTINUUM_OPENAI_BASE_URL',
    undefined,
    'Base URL of any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp).',
    url('CONTINUUM_OPENAI_BASE_URL', ['http:', 'https:']),
  ),
  openaiModel: spec<string>(
    'CONTINUUM_OPENAI_MODEL',
    undefined,
    'Model name on that server.',
    text('CONTINUUM_OPENAI_MODEL'),
  ),
  bedrockModelId: spec<string>(
    'CONTINUUM_BEDROCK_MODEL_ID',
    undefined,
    'Bedrock model id (with `CONTINUUM_MODEL=bedrock`).',
    text('CONTINUUM_BEDROCK_MODEL_ID'),
  ),
  bedrockRegion: spec<string>(
    'CONTINUUM_BEDROCK_REGION',
    undefined,
    'AWS region of Bedrock (credentials come from the default AWS chain).',
    text('CONTINUUM_BEDROCK_REGION'),
  ),
  bedrockEndpoint: spec<string>(
    'CONTINUUM_BEDROCK_ENDPOINT',
    undefined,
    'Bedrock runtime endpoint override (e.g. a VPC endpoint).',
    url('CONTINUUM_BEDROCK_ENDPOINT', ['http:', 'https:']),
  ),
  modelFirstTokenTimeout: spec(
    'CONTINUUM_MODEL_FIRST_TOKEN_TIMEOUT',
    30,
    'Seconds a model call may take to send its first token before it is abandoned (and retried, up to `CONTINUUM_MODEL_RETRIES` times, before any token arrived).',
    integer('CONTINUUM_MODEL_FIRST_TOKEN_TIMEOUT', 1, 600),
  ),
  modelRetries: spec(
    'CONTINUUM_MODEL_RETRIES',
    2,
    'Retries of a model call that failed or timed out before its first token (never after: a reply is not sent twice).',
    integer('CONTINUUM_MODEL_RETRIES', 0, 5),
  ),
  intentModel: spec(
    'CONTINUUM_INTENT_MODEL',
    false,
    "Also ask the configured model (not the offline responder) about user turns the intent rules leave as `general`: an emergency or another intent it finds is used, and the rules' emergencies are never downgraded. Costs one short model call (3 s at most) before such replies.",
    boolean('CONTINUUM_INTENT_MODEL'),
  ),
  streamMaxWait: spec(
    'CONTINUUM_STREAM_MAX_WAIT',
    30,
    "Seconds a reply may wait in its tenant's priority queue before `429 streams_busy`.",
    integer('CONTINUUM_STREAM_MAX_WAIT', 0, 3600),
  ),
  sseFlushBytes: spec(
    'CONTINUUM_SSE_FLUSH_BYTES',
    1024,
    "A reply's first text delta is sent at once; the rest are coalesced into one SSE `delta` event until this many UTF-8 bytes are buffered…",
    integer('CONTINUUM_SSE_FLUSH_BYTES', 1, 1_048_576),
  ),
  sseFlushMs: spec(
    'CONTINUUM_SSE_FLUSH_MS',
    100,
    '…or until this many milliseconds have passed since the first buffered byte (0: every model delta is sent at once).',
    integer('CONTINUUM_SSE_FLUSH_MS', 0, 10_000),
  ),
  syncSendBufferBytes: spec(
    'CONTINUUM_SYNC_SEND_BUFFER_BYTES',
    1_048_576,
    'Bytes a sync WebSocket may have queued for sending; a client that falls this far behind is closed with 4008 and resumes with `after` (docs/SYNC.md).',
    integer('CONTINUUM_SYNC_SEND_BUFFER_BYTES', 65_536, 67_108_864),
  ),
  syncPingInterval: spec(
    'CONTINUUM_SYNC_PING_INTERVAL',
    30,
    'Seconds between pings on each sync WebSocket; a connection that has not answered the previous ping is dropped.',
    integer('CONTINUUM_SYNC_PING_INTERVAL', 1, 3600),
  ),
  shutdownGrace: spec(
    'CONTINUUM_SHUTDOWN_GRACE',
    10,
    'Seconds a stopping server (SIGTERM) lets in-flight requests and replies finish before it ends SSE streams with a resumable `reconnect` event and exits.',
    integer('CONTINUUM_SHUTDOWN_GRACE', 0, 3600),
  ),
  flags: spec<readonly FlagSeed[]>(
    'CONTINUUM_FLAGS',
    undefined,
    'Feature flags to seed, as JSON (`{"sync":false,"retrieval":{"percent":25}}`) or compact (`sync=off,retrieval=25%`); see docs/FLAGS.md. Written to the store at start only for flags it does not have; after that the store (`PUT /v1/admin/flags/{name}`) wins. When unset, every flag is on for every tenant.',
    flagsSetting('CONTINUUM_FLAGS'),
  ),
  metrics: spec(
    'CONTINUUM_METRICS',
    'prometheus' as (typeof METRICS_MODES)[number],
    'Where metrics go: `prometheus` (`GET /metrics`), `emf` (CloudWatch Embedded Metric Format lines on stdout, e.g. on AWS Lambda; `/metrics` answers 404) or `both`. See docs/OPERATIONS.md.',
    oneOf('CONTINUUM_METRICS', METRICS_MODES),
  ),
  metricsInterval: spec(
    'CONTINUUM_METRICS_INTERVAL',
    60,
    'Seconds between two rounds of EMF lines (with `CONTINUUM_METRICS=emf` or `both`); one more round is written when the server stops.',
    integer('CONTINUUM_METRICS_INTERVAL', 1, 3600),
  ),
  alertWebhook: spec<string>(
    'CONTINUUM_ALERT_WEBHOOK',
    undefined,
    'URL that alerts are POSTed to (JSON) when they fire and resolve, retried with backoff. When unset, alerts are only logged and listed at `GET /v1/admin/alerts`.',
    url('CONTINUUM_ALERT_WEBHOOK', ['http:', 'https:']),
  ),
  logLevel: spec(
    'CONTINUUM_LOG_LEVEL',
    'info' as (typeof LOG_LEVELS)[number],
    'Log level (pino).',
    oneOf('CONTINUUM_LOG_LEVEL', LOG_LEVELS),
  ),
} as const;

type Settings = typeof SETTINGS;
type ValueOf<S> = S extends SettingSpec<infer T> ? T : never;

/** The parsed, frozen configuration. Optional settings are `undefined` when unset. */
export type Config = {
  readonly [K in keyof Settings]: Settings[K]['default'] extends undefined
    ? ValueOf<Settings[K]> | undefined
    : ValueOf<Settings[K]>;
};

/**
 * Parse every `CONTINUUM_*` setting once. Unknown `CONTINUUM_*` names and bad
 * values fail with a message naming the setting.
 *
 * @example
 * const config = loadConfig(process.env);
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [string, SettingSpec<unknown>][]) {
    const raw = env[setting.env];
    if (raw === undefined || raw === '') {
      out[key] = setting.default;
      continue;
    }
    try {
      out[key] = setting.parse(raw);
    } catch (error) {
      if (error instanceof ConfigError) problems.push(error.message);
      else throw error;
    }
  }
  if (out.store === 'postgres' && out.databaseUrl === undefined) {
    problems.push('CONTINUUM_DATABASE_URL: required when CONTINUUM_STORE=postgres');
  }
  if (out.keyProvider === 'kms' && out.kmsKeyId === undefined) {
    problems.push('CONTINUUM_KMS_KEY_ID: required when CONTINUUM_KEY_PROVIDER=kms');
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return Object.freeze(out) as Config;
}

/**
 * Variables of the same prefix read by other parts, not the server: the CLI's client commands
 * (`chat`, `token`, `doctor`) and the test suite. `serve` does not warn about them.
 */
const NOT_SERVER_SETTINGS = new Set(['CONTINUUM_API_KEY', 'CONTINUUM_TEST_DATABASE_URL', 'CONTINUUM_TEST_REDIS_URL']);

/**
 * `CONTINUUM_*` names this build does not know: likely typos, or settings of
 * a later version. `serve` warns about them; they never stop a start.
 */
export function unknownSettings(env: Record<string, string | undefined>): string[] {
  const known = new Set(Object.values(SETTINGS).map((s) => s.env));
  return Object.keys(env)
    .filter((name) => name.startsWith('CONTINUUM_') && !known.has(name) && !NOT_SERVER_SETTINGS.has(name))
    .sort();
}

/** A config for tests and embedding: defaults plus overrides, validated the same way. */
export function configWith(overrides: Partial<Record<keyof Settings, unknown>>): Config {
  const base = loadConfig({});
  return Object.freeze({ ...base, ...overrides }) as Config;
}

export { ConfigError };
