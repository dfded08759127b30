import type { Clock } from '../core/clock.ts';
import type { ConversationId, TenantId } from '../core/types.ts';
import { AppError } from '../errors/index.ts';

export interface SessionPoolOptions {
  clock: Clock;
  /** Active sessions a tenant may hold; 0 means no limit. */
  maxPerTenant: number;
  /** A session stops being active this long after its last request. */
  idleTtlMs: number;
}

/**
 * Active conversation sessions per tenant. A session starts with the first
 * request that touches a conversation and ends when it has been idle for
 * `idleTtlMs` or the conversation is closed. Each tenant's map is kept in
 * least-recently-used order, so expiry and Retry-After look only at its head.
 */
export class SessionPool {
  readonly #options: SessionPoolOptions;
  readonly #tenants = new Map<TenantId, Map<ConversationId, number>>();

  constructor(options: SessionPoolOptions) {
    if (!Number.isInteger(options.maxPerTenant) || options.maxPerTenant < 0) {
      throw new TypeError('SessionPool: maxPerTenant must be a non-negative integer');
    }
    if (!(options.idleTtlMs > 0)) throw new TypeError('SessionPool: idleTtlMs must be positive');
    this.#options = options;
  }

  /** Mark a conversation's session active, or refuse with `session_limit`. */
  touch(tenantId: TenantId, conversationId: ConversationId): void {
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
      const retryAfter = Math.max(1, Math.ceil((oldest + this.#options.idleTtlMs - now) / 1000));
      throw new AppError('session_limit', `The tenant already has ${max} active conversation sessions`, {
        headers: { 'retry-after': String(retryAfter) },
        extras: { limit: max, retryAfter },
      });
    }
    sessions.set(conversationId, now);
  }

  release(tenantId: TenantId, conversationId: ConversationId): void {
    this.#tenants.get(tenantId)?.delete(conversationId);
  }

  /** Active sessions of a tenant now. */
  active(tenantId: TenantId): number {
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
