import { describe, expect, it } from 'vitest';
import { SYSTEM_TENANT } from '../../../src/audit/event.ts';
import type { FlagRecord } from '../../../src/store/port.ts';
import { hex, iso, noAudit, recorder } from '../fixtures.ts';
import type { SuiteContext } from './suite-context.ts';

const flag = (name: string, overrides: Partial<FlagRecord> = {}): FlagRecord => ({
  name,
  enabled: true,
  tenants: [],
  percent: 0,
  updatedAt: iso(),
  ...overrides,
});

/** Feature flags: shared by every client, replaced whole, audited on the system chain. */
export function flagTests(ctx: SuiteContext): void {
  describe('feature flags', () => {
    // Names unique to this run, so other runs' flags on a shared database do not matter.
    const prefix = `f_${hex(4)}_`;
    const ours = async (store = ctx.store) => (await store.listFlags()).filter((f) => f.name.startsWith(prefix));

    it('puts flags that every client lists, by name', async () => {
      const sync = flag(`${prefix}sync`, { tenants: ['tnt_a', 'tnt_b'], percent: 25 });
      const alerts = flag(`${prefix}alerts`, { enabled: false, percent: 100, updatedAt: iso(5) });
      const beta = flag(`${prefix}beta`, { percent: 12.5 });
      await ctx.store.putFlag(sync, noAudit());
      await ctx.other.putFlag(alerts, noAudit());
      await ctx.store.putFlag(beta, noAudit());
      expect(await ours(ctx.other)).toEqual([alerts, beta, sync]);
      expect(await ours(ctx.store)).toEqual([alerts, beta, sync]);
    });

    it('replaces a flag whole, from either client', async () => {
      const name = `${prefix}replace`;
      await ctx.store.putFlag(flag(name, { tenants: ['tnt_a'], percent: 50 }), noAudit());
      const next = flag(name, { enabled: false, tenants: [], percent: 0, updatedAt: iso(60) });
      await ctx.other.putFlag(next, noAudit());
      expect((await ours()).filter((f) => f.name === name)).toEqual([next]);
      const again = flag(name, { tenants: ['tnt_c', 'tnt_d'], percent: 100, updatedAt: iso(120) });
      await ctx.store.putFlag(again, noAudit());
      expect((await ours(ctx.other)).filter((f) => f.name === name)).toEqual([again]);
    });

    it('audits each put on the system chain, not on any tenant chain', async () => {
      const before = (await ctx.store.auditHead(SYSTEM_TENANT))?.seq ?? 0;
      const first = recorder<void>();
      const second = recorder<void>();
      await ctx.store.putFlag(flag(`${prefix}audited`), first.batch);
      await ctx.other.putFlag(flag(`${prefix}audited`, { enabled: false }), second.batch);
      expect(first.outcomes).toEqual([undefined]);
      expect(second.outcomes).toEqual([undefined]);
      const events = await ctx.store.listAuditEvents(SYSTEM_TENANT, { afterSeq: before, limit: 100 });
      const markers = events.map((e) => e.resource.id);
      expect(markers).toContain(first.marker);
      expect(markers.indexOf(first.marker)).toBeLessThan(markers.indexOf(second.marker));
      expect(events.every((e) => e.tenantId === SYSTEM_TENANT)).toBe(true);
    });

    it('an audit batch that throws leaves the flag as it was', async () => {
      const name = `${prefix}kept`;
      const kept = flag(name, { percent: 10 });
      await ctx.store.putFlag(kept, noAudit());
      const failing = {
        at: new Date(),
        events: (): never => {
          throw new Error('audit refused');
        },
      };
      await expect(ctx.other.putFlag(flag(name, { percent: 90 }), failing)).rejects.toThrow();
      expect((await ours()).filter((f) => f.name === name)).toEqual([kept]);
    });

    it('refuses a malformed flag with a TypeError and stores nothing', async () => {
      const name = `${prefix}bad`;
      await expect(ctx.store.putFlag(flag(name, { percent: 101 }), noAudit())).rejects.toBeInstanceOf(TypeError);
      await expect(ctx.store.putFlag(flag(name, { percent: -1 }), noAudit())).rejects.toBeInstanceOf(TypeError);
      await expect(ctx.store.putFlag(flag(''), noAudit())).rejects.toBeInstanceOf(TypeError);
      expect((await ours()).filter((f) => f.name === name)).toEqual([]);
    });
  });
}
