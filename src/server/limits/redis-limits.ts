import type { SessionRegistry } from '../../conversations/session-pool.ts';
import type { Clock } from '../../core/clock.ts';
import type { MultiStreamManager, StreamScheduler } from '../../streaming/scheduler.ts';
import { RedisConnection } from '../../sync/redis-connection.ts';
import type { RateLimiter } from '../rate-limiter.ts';
import { ClusterStreams } from './cluster-streams.ts';
import { type LimitFallback, RedisAttempt } from './fallback.ts';
import { RedisRateLimiter } from './redis-rate-limiter.ts';
import { RedisSessionRegistry } from './redis-session-registry.ts';
import { limitScripts } from './scripts.ts';

export interface RedisLimitsOptions {
  /** `redis://` or `rediss://` URL. */
  url: string;
  /** Prefix of every key, shared by all nodes of one deployment (default `continuum:`). */
  prefix?: string;
  clock: Clock;
  /** Sustained requests per second per tenant (bursts twice that); 0 = off. */
  ratePerTenant: number;
  /** Sustained requests per second per subject (bursts twice that); 0 = off. */
  ratePerSubject: number;
  /** Active conversation sessions a tenant may hold across all nodes; 0 = no limit. */
  maxSessionsPerTenant: number;
  /** A session stops being active this long after its last request. */
  sessionIdleTtlMs: number;
  /** Concurrent reply generations per tenant across all nodes (`CONTINUUM_MAX_STREAMS_PER_TENANT`). */
  maxStreamsPerTenant?: number;
  /** Longest wait for a generation slot before `streams_busy` (`CONTINUUM_STREAM_MAX_WAIT`). */
  streamMaxWaitMs?: number;
  /** Longest wait for Redis before a call is decided on this node alone (default 150 ms). */
  commandTimeoutMs?: number;
  /** Told of every call decided on this node alone because Redis did not answer. */
  onFallback?: (event: LimitFallback) => void;
  /** Told when the connection goes down (once per outage). */
  onError?: (error: unknown) => void;
}

/** Rate limits and the session pool, shared by every node through one Redis connection. */
export interface RedisLimits {
  tenantLimiter: RateLimiter;
  subjectLimiter: RateLimiter;
  sessions: SessionRegistry;
  /** The tenant's generation limit across nodes, on top of this node's scheduler (its queue orders its waiters). */
  streams(local: MultiStreamManager): StreamScheduler;
  /** True while the connection is up. */
  readonly healthy: boolean;
  close(): Promise<void>;
}

/**
 * Limits counted across all nodes: per-tenant and per-subject token
 * buckets, the per-tenant session pool and reply generation slots, each
 * decided atomically in Redis. A request is never refused or failed because Redis is down: a
 * call Redis does not answer within `commandTimeoutMs` is decided by this
 * node's own limiter or pool (reported to `onFallback`), and the next call
 * tries Redis again.
 *
 * @example
 * const limits = createRedisLimits({
 *   url: 'redis://127.0.0.1:6379', clock, ratePerTenant: 50, ratePerSubject: 5,
 *   maxSessionsPerTenant: 100, sessionIdleTtlMs: 900_000,
 *   onFallback: ({ operation }) => log.warn({ operation }, 'limit decided locally'),
 * });
 */
export function createRedisLimits(options: RedisLimitsOptions): RedisLimits {
  const prefix = options.prefix ?? 'continuum:';
  if (typeof prefix !== 'string') throw new TypeError('createRedisLimits: prefix must be a string');
  const commandTimeoutMs = options.commandTimeoutMs ?? 150;
  const connection = new RedisConnection({
    url: options.url,
    name: `${prefix}limits`,
    commandTimeoutMs,
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  });
  const attempt = new RedisAttempt(connection, {
    timeoutMs: commandTimeoutMs,
    ...(options.onFallback === undefined ? {} : { onFallback: options.onFallback }),
  });
  const scripts = limitScripts(connection.client);
  const limiter = (name: string, ratePerSecond: number) =>
    new RedisRateLimiter({
      attempt,
      scripts,
      keyPrefix: `${prefix}rate:${name}:`,
      name,
      clock: options.clock,
      ratePerSecond,
    });
  return {
    tenantLimiter: limiter('tenant', options.ratePerTenant),
    subjectLimiter: limiter('subject', options.ratePerSubject),
    sessions: new RedisSessionRegistry({
      attempt,
      scripts,
      keyPrefix: `${prefix}sessions:`,
      clock: options.clock,
      maxPerTenant: options.maxSessionsPerTenant,
      idleTtlMs: options.sessionIdleTtlMs,
    }),
    streams: (local) =>
      new ClusterStreams({
        local,
        attempt,
        scripts,
        keyPrefix: `${prefix}streams:`,
        limit: options.maxStreamsPerTenant ?? 5,
        maxWaitMs: options.streamMaxWaitMs ?? 30_000,
      }),
    get healthy() {
      return connection.healthy;
    },
    close: () => connection.close(),
  };
}
