import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base32 } from '../../src/conversations/session-id.ts';
import { isOnFor, rolloutBucket } from '../../src/flags/index.ts';

/** Tenant ids as the server mints them, derived from `i` so every run sees the same ones. */
const tenantIds = (count: number, salt = 'rollout'): string[] =>
  Array.from(
    { length: count },
    (_, i) => `tnt_${base32(createHash('sha256').update(`${salt}:${i}`).digest().subarray(0, 10))}`,
  );

const share = (name: string, percent: number, tenants: string[]) =>
  tenants.filter((t) => isOnFor(name, { enabled: true, tenants: [], percent }, t)).length / tenants.length;

describe('percentage rollout by a stable hash of the tenant', () => {
  const tenants = tenantIds(20_000);

  it('puts a tenant in the same bucket every time: the first 4 bytes of SHA-256(name, NUL, tenant) over 2^32', () => {
    const tenant = tenants[0]!;
    const digest = createHash('sha256').update(`retrieval\u0000${tenant}`).digest();
    const expected = (digest.readUInt32BE(0) / 2 ** 32) * 100;
    expect(rolloutBucket('retrieval', tenant)).toBe(expected);
    expect(rolloutBucket('retrieval', tenant)).toBe(rolloutBucket('retrieval', tenant));
    for (const t of tenants.slice(0, 1000)) {
      const bucket = rolloutBucket('sync', t);
      expect(bucket).toBeGreaterThanOrEqual(0);
      expect(bucket).toBeLessThan(100);
    }
  });

  it('turns a flag on for roughly its percentage of many tenants', () => {
    for (const percent of [1, 10, 25, 50, 90]) {
      // 20,000 tenants: the standard deviation of the share is at most 0.36 points; allow 1.5.
      expect(Math.abs(share('retrieval', percent, tenants) * 100 - percent), `${percent} %`).toBeLessThan(1.5);
    }
    expect(share('retrieval', 0, tenants)).toBe(0);
    expect(share('retrieval', 100, tenants)).toBe(1);
  });

  it('only adds tenants as the percentage rises, and takes none away', () => {
    const at10 = tenants.filter((t) => isOnFor('sync', { enabled: true, tenants: [], percent: 10 }, t));
    const at30 = new Set(tenants.filter((t) => isOnFor('sync', { enabled: true, tenants: [], percent: 30 }, t)));
    expect(at10.length).toBeGreaterThan(0);
    expect(at10.every((t) => at30.has(t))).toBe(true);
  });

  it('draws each flag independently: the first half of one flag is not the first half of another', () => {
    const half = (name: string) =>
      new Set(tenants.filter((t) => isOnFor(name, { enabled: true, tenants: [], percent: 50 }, t)));
    const retrieval = half('retrieval');
    const both = [...half('sync')].filter((t) => retrieval.has(t)).length / tenants.length;
    expect(Math.abs(both - 0.25)).toBeLessThan(0.02);
  });
});

describe('allow-list and switch', () => {
  const [listed, other] = tenantIds(2, 'allow');

  it('is on for an allow-listed tenant whatever the percentage, and by percentage for the rest', () => {
    const rule = { enabled: true, tenants: [listed!], percent: 0 };
    expect(isOnFor('sync', rule, listed!)).toBe(true);
    expect(isOnFor('sync', rule, other!)).toBe(false);
    expect(isOnFor('sync', { ...rule, percent: 100 }, other!)).toBe(true);
  });

  it('is off for everyone, allow-listed tenants too, when disabled', () => {
    const rule = { enabled: false, tenants: [listed!], percent: 100 };
    expect(isOnFor('sync', rule, listed!)).toBe(false);
    expect(isOnFor('sync', rule, other!)).toBe(false);
  });
});
