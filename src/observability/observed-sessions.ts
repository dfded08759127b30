import type { SessionRegistry } from '../conversations/session-pool.ts';
import type { Clock } from '../core/clock.ts';
import type { ConversationId, TenantId } from '../core/types.ts';
import type { Metrics } from './metrics.ts';

export interface ObservedSessionsOptions {
  metrics: Metrics;
  clock: Clock;
  /** CONTINUUM_MAX_SESSIONS_PER_TENANT (0: no limit). */
  maxPerTenant: number;
  /** A tenant not seen for this long has no active session left. */
  idleTtlMs: number;
  /** Tenants remembered at most (the most recently seen). Default 1 000. */
  maxTenants?: number;
  /** A sample is reused for this long, in ms (default 1 000), so several gauges read one. */
  sampleMs?: number;
}

/**
 * The same session registry, with its occupancy sampled for the metrics:
 * the tenants this node served within the idle TTL are remembered (ids only,
 * never exported as labels), and at collection time the registry is asked
 * how many sessions each holds — the sum, and the fullest tenant's share of
 * its cap. With Redis those counts are the cluster's.
 */
export function observeSessions(registry: SessionRegistry, options: ObservedSessionsOptions): SessionRegistry {
  const { clock, idleTtlMs, maxPerTenant } = options;
  const maxTenants = options.maxTenants ?? 1_000;
  const seen = new Map<TenantId, number>();
  let sample: { at: number; value: Promise<{ active: number; occupancy: number }> } | undefined;

  const remember = (tenantId: TenantId) => {
    seen.delete(tenantId);
    seen.set(tenantId, clock.now());
    if (seen.size > maxTenants) seen.delete(seen.keys().next().value as TenantId);
  };

  const measure = async () => {
    const now = clock.now();
    const tenants: TenantId[] = [];
    for (const [tenantId, at] of seen) {
      if (at + idleTtlMs <= now) seen.delete(tenantId);
      else tenants.push(tenantId);
    }
    const counts = await Promise.all(tenants.map((tenantId) => registry.active(tenantId).catch(() => 0)));
    const active = counts.reduce((sum, n) => sum + n, 0);
    const fullest = counts.reduce((max, n) => Math.max(max, n), 0);
    return { active, occupancy: maxPerTenant > 0 ? fullest / maxPerTenant : 0 };
  };

  options.metrics.samplers.sessionPool = () => {
    const now = performance.now();
    if (!sample || now - sample.at >= (options.sampleMs ?? 1_000)) sample = { at: now, value: measure() };
    return sample.value;
  };

  return {
    async touch(tenantId: TenantId, conversationId: ConversationId) {
      remember(tenantId);
      return registry.touch(tenantId, conversationId);
    },
    release: (tenantId, conversationId) => registry.release(tenantId, conversationId),
    active: (tenantId) => registry.active(tenantId),
  };
}
