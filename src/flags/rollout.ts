import { createHash } from 'node:crypto';

/** What decides a flag for a tenant: the on/off switch, an allow-list and a percentage rollout. */
export interface FlagRule {
  enabled: boolean;
  /** Tenants it is on for whatever `percent` says. */
  tenants: readonly string[];
  /** 0–100: the share of the other tenants it is on for, chosen by {@link rolloutBucket}. */
  percent: number;
}

/**
 * A tenant's stable place in a flag's rollout, in [0, 100): the first 4 bytes
 * of SHA-256(flag name, NUL, tenant id) as a fraction of 2^32, times 100. The
 * same on every node and every restart; independent between flags, so the
 * first 10 % of one flag are not the first 10 % of every other.
 */
export function rolloutBucket(name: string, tenantId: string): number {
  const digest = createHash('sha256').update(`${name}\u0000${tenantId}`).digest();
  return (digest.readUInt32BE(0) / 2 ** 32) * 100;
}

/**
 * Whether `rule` turns flag `name` on for `tenantId`: never when disabled;
 * always for an allow-listed tenant; otherwise when the tenant's bucket falls
 * under `percent` (so raising the percentage only ever adds tenants).
 */
export function isOnFor(name: string, rule: FlagRule, tenantId: string): boolean {
  if (!rule.enabled) return false;
  if (rule.tenants.includes(tenantId)) return true;
  if (rule.percent >= 100) return true;
  if (rule.percent <= 0) return false;
  return rolloutBucket(name, tenantId) < rule.percent;
}
