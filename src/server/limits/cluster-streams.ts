import { randomUUID } from 'node:crypto';
import type { TenantId } from '../../core/types.ts';
import type {
  AcquireStreamOptions,
  MultiStreamManager,
  ReleaseStream,
  StreamPriority,
  StreamScheduler,
} from '../../streaming/scheduler.ts';
import { defaultStreamsBusyError } from '../../streaming/scheduler.ts';
import type { RedisAttempt } from './fallback.ts';
import type { LimitScripts } from './scripts.ts';

export interface ClusterStreamsOptions {
  /** This node's scheduler: its priority queue (with aging) orders the node's own waiters. */
  local: MultiStreamManager;
  attempt: RedisAttempt;
  scripts: LimitScripts;
  keyPrefix: string;
  /** Concurrent generations per tenant across all nodes (`CONTINUUM_MAX_STREAMS_PER_TENANT`). */
  limit: number;
  /** Longest wait (local queue plus cluster slot) before `streams_busy`. */
  maxWaitMs: number;
  /** A node that dies holding a slot frees it after this long (renewed while held). Default 30 s. */
  leaseTtlMs?: number;
  /** How often a waiter asks for a freed slot. Default 50 ms. */
  pollMs?: number;
}

/**
 * The tenant's generation limit held across every node: a request first
 * takes a slot of this node's scheduler (so the node's priority queue orders
 * its own waiters), then a lease on one of the tenant's `limit` slots in
 * Redis, renewed while the generation runs and given back when it ends. A
 * request that gets no cluster slot within its wait is refused with
 * `streams_busy`. When Redis does not answer, the node's own limit alone
 * applies (the lease is not needed), as for the other shared limits.
 */
export class ClusterStreams implements StreamScheduler {
  readonly #o: ClusterStreamsOptions;
  readonly #ttl: number;

  constructor(options: ClusterStreamsOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new TypeError('ClusterStreams: limit must be a positive integer');
    }
    this.#o = options;
    this.#ttl = options.leaseTtlMs ?? 30_000;
  }

  async acquire(
    tenantId: TenantId,
    priority: StreamPriority,
    options: AcquireStreamOptions = {},
  ): Promise<ReleaseStream> {
    const started = Date.now();
    const maxWaitMs = options.maxWaitMs ?? this.#o.maxWaitMs;
    const releaseLocal = await this.#o.local.acquire(tenantId, priority, options);
    const key = `${this.#o.keyPrefix}${tenantId}`;
    const lease = randomUUID();
    try {
      for (;;) {
        const taken = await this.#o.attempt.run('stream_slot', () =>
          this.#o.scripts.takeSlot(key, this.#ttl, this.#o.limit, lease).then((n) => (n === 1 ? 'taken' : 'held')),
        );
        if (taken === undefined) return releaseLocal; // Redis is away: this node's limit alone applies
        if (taken === 'taken') return this.#held(key, lease, releaseLocal);
        const waited = Date.now() - started;
        if (waited >= maxWaitMs || options.signal?.aborted) {
          if (options.signal?.aborted) throw options.signal.reason;
          throw defaultStreamsBusyError({
            tenantId,
            reason: 'timeout',
            retryAfterSeconds: Math.max(1, Math.ceil(maxWaitMs / 1000 / 2)),
            waitedMs: waited,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, (this.#o.pollMs ?? 50) * (0.5 + Math.random())));
      }
    } catch (error) {
      releaseLocal();
      throw error;
    }
  }

  /** Renew the lease while the generation runs; give it back (and the node's slot) exactly once. */
  #held(key: string, lease: string, releaseLocal: ReleaseStream): ReleaseStream {
    const renew = setInterval(() => {
      void this.#o.attempt.run('stream_slot_renew', () => this.#o.scripts.renewSlot(key, this.#ttl, lease));
    }, this.#ttl / 3);
    renew.unref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      clearInterval(renew);
      releaseLocal();
      void this.#o.attempt.run('stream_slot_release', (client) => client.zrem(key, lease));
    };
  }
}
