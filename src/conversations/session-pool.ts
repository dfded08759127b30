import type { Clock } from '../core/clock.ts';
import type { ConversationId, TenantId } from '../core/types.ts';
import { AppError } from '../errors/index.ts';

/**
 * Active conversation sessions per tenant, with a cap. A session starts with
 * the first request that touches a conversation and ends when it has been
 * idle for the idle TTL or the conversation is closed.
 */
export interface SessionRegistry {
  /** Mark a conversation's session active, or reject with `session_limit` and a Retry-After. */
  touch(tenantId: TenantId, conversationId: ConversationId): Promise<void>;
  /** End a session now (its conversation was closed). */
  release(tenantId: TenantId, conversationId: ConversationId): Promise<void>;
  /** Active sessions of a tenant now. */
  active(tenantId: TenantId): Promise<number>;
}

/**
 * The `session_limit` error. `retryAfterMs` is how long until the oldest
 * session goes idle; Retry-After is that in whole seconds (at least 1).
 */
export function sessionLimit(max: number, retryAfterMs: number): AppError {
  const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new AppError('session_limit', `The tenant already has ${max} active conversation sessions`, {
    headers: { 'retry-after': String(retryAfter) },
    extras: { limit: max, retryAfter },
  });
}

export interface SessionPoolOptions {
  clock: Clock;
  /** Active sessions a tenant may hold; 0 means no limit. */
  maxPerTenant: number;
  /** A session stops being active this long after its last request. */
  idleTtlMs: number;
}

/**
 * The sessions this node holds (see {@link SessionRegistry}). Each tenant's
 * map is kept in least-recently-used order, so expiry and Retry-After look
 * only at its head.
 */
export class SessionPool implements SessionRegistry {
  readonly #options: SessionPoolOptions;
  readonly #tenants = new Map<TenantId, Map<ConversationId, number>>();

  constructor(options: SessionPoolOptions) {
    if (!Number.isInteger(options.maxPerTenant) || options.maxPerTenant < 0) {
      throw new TypeError('SessionPool: maxPerTenant must be a non-negative integer');
    }
    if (!(options.idleTtlMs > 0)) throw new TypeError('SessionPool: idleTtlMs must be positive');
    this.#options = options;
  }

  async touch(tenantId: TenantId, conversationId: ConversationId): Promise<void> {
    const now = this.#options.clock.now();
    let sessions = this.#tenants.get(tenantId);
    if (!sessions) {
      sessions = new Map();
      this.#tenants.set(tenantId, sessions);
    }
    if (sessions.delete(conversationId)) {
      sessions.set(conversationId, now);
      return;
    }
    this.#expire(sessions, now);
    const max = this.#options.maxPerTenant;
    if (max > 0 && sessions.size >= max) {
      const oldest = sessions.values().next().value as number;
      throw sessionLimit(max, oldest + this.#options.idleTtlMs - now);
    }
    sessions.set(conversationId, now);
  }

  async release(tenantId: TenantId, conversationId: ConversationId): Promise<void> {
    this.#tenants.get(tenantId)?.delete(conversationId);
  }

  async active(tenantId: TenantId): Promise<number> {
    const sessions = this.#tenants.get(tenantId);
    if (!sessions) return 0;
    this.#expire(sessions, this.#options.clock.now());
    return sessions.size;
  }

  #expire(sessions: Map<ConversationId, number>, now: number): void {
    for (const [id, lastSeen] of sessions) {
      if (lastSeen + this.#options.idleTtlMs > now) break;
      sessions.delete(id);
    }
  }
}
