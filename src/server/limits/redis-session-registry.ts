import { SessionPool, type SessionRegistry, sessionLimit } from '../../conversations/session-pool.ts';
import type { Clock } from '../../core/clock.ts';
import type { ConversationId, TenantId } from '../../core/types.ts';
import type { RedisAttempt } from './fallback.ts';
import type { LimitScripts } from './scripts.ts';

export interface RedisSessionRegistryOptions {
  attempt: RedisAttempt;
  scripts: LimitScripts;
  /** Key prefix of the per-tenant sorted sets, e.g. `continuum:sessions:`. */
  keyPrefix: string;
  clock: Clock;
  /** Active sessions a tenant may hold across all nodes; 0 means no limit. */
  maxPerTenant: number;
  /** A session stops being active this long after its last request. */
  idleTtlMs: number;
}

/**
 * Active sessions per tenant counted across all nodes, with the semantics
 * of {@link SessionPool}: per tenant a sorted set of conversation ids scored
 * by last-seen ms (from the injected clock), touched by one Lua script that
 * expires idle entries, refuses when full and adds otherwise. When Redis
 * does not answer, this node's own pool decides that call; a release always
 * reaches the node's pool too, so sessions opened during an outage end.
 */
export class RedisSessionRegistry implements SessionRegistry {
  readonly #o: RedisSessionRegistryOptions;
  readonly #local: SessionPool;

  constructor(options: RedisSessionRegistryOptions) {
    this.#local = new SessionPool(options);
    this.#o = options;
  }

  async touch(tenantId: TenantId, conversationId: ConversationId): Promise<void> {
    const { clock, idleTtlMs, maxPerTenant } = this.#o;
    const waitMs = await this.#o.attempt.run('session_touch', () =>
      this.#o.scripts.touchSession(this.#key(tenantId), clock.now(), idleTtlMs, maxPerTenant, conversationId),
    );
    if (waitMs === undefined) return this.#local.touch(tenantId, conversationId);
    if (waitMs > 0) throw sessionLimit(maxPerTenant, waitMs);
  }

  async release(tenantId: TenantId, conversationId: ConversationId): Promise<void> {
    await this.#local.release(tenantId, conversationId);
    await this.#o.attempt.run('session_release', (client) => client.zrem(this.#key(tenantId), conversationId));
  }

  async active(tenantId: TenantId): Promise<number> {
    const since = this.#o.clock.now() - this.#o.idleTtlMs;
    const count = await this.#o.attempt.run('session_active', (client) =>
      client.zcount(this.#key(tenantId), `(${since}`, '+inf'),
    );
    return count ?? this.#local.active(tenantId);
  }

  #key(tenantId: TenantId): string {
    return `${this.#o.keyPrefix}${tenantId}`;
  }
}
