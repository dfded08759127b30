import { describe, expect, it } from 'vitest';
import type { TenantId } from '../../../src/core/types.ts';
import type { RefreshFamilyRecord, RefreshTokenRecord, RotateOutcome } from '../../../src/store/port.ts';
import { allAuditEvents, freshTenant, hex, noAudit, recorder, T0 } from '../fixtures.ts';
import type { SuiteContext } from './suite-context.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function family(tenantId: TenantId, overrides: Partial<RefreshFamilyRecord> = {}): RefreshFamilyRecord {
  return {
    id: `fam_${hex(6)}`,
    tenantId,
    subject: 'patient-1',
    scope: 'conversations',
    createdAtMs: T0,
    expiresAtMs: T0 + 24 * HOUR,
    revokedAtMs: null,
    revokedReason: null,
    ...overrides,
  };
}

const token = (familyId: string, createdAtMs = T0, ttl = HOUR): RefreshTokenRecord => ({
  hash: hex(32),
  familyId,
  createdAtMs,
  expiresAtMs: createdAtMs + ttl,
});

const nextToken = (createdAtMs: number, ttl = HOUR): Omit<RefreshTokenRecord, 'familyId'> => {
  const { familyId: _, ...rest } = token('', createdAtMs, ttl);
  return rest;
};

/** Refresh families: create, rotate, reuse, expiry, revocation. */
export function refreshTests(ctx: SuiteContext): void {
  describe('refresh families and tokens', () => {
    async function started(overrides: Partial<RefreshFamilyRecord> = {}, ttl = HOUR) {
      const tenantId = freshTenant();
      const fam = family(tenantId, overrides);
      const first = token(fam.id, T0, ttl);
      const audit = recorder<void>();
      await ctx.store.createRefreshFamily(tenantId, fam, first, audit.batch);
      return { tenantId, fam, first, audit };
    }

    it('creates a family with its first token, audited with the change', async () => {
      const { tenantId, fam, audit } = await started();
      expect(await ctx.other.getRefreshFamily(tenantId, fam.id)).toEqual(fam);
      expect(await ctx.store.getRefreshFamily(tenantId, `fam_${hex(6)}`)).toBeNull();
      expect((await allAuditEvents(ctx.store, tenantId)).map((e) => e.resource.id)).toEqual([audit.marker]);
    });

    it('rotates: spends the old token, stores the next in the same family, and passes the outcome to the audit', async () => {
      const { tenantId, fam, first } = await started();
      const next = nextToken(T0 + MINUTE);
      const audit = recorder<RotateOutcome>();
      const outcome = await ctx.other.rotateRefreshToken(tenantId, first.hash, next, T0 + MINUTE, audit.batch);
      expect(outcome).toEqual({ kind: 'rotated', family: fam });
      expect(audit.outcomes).toEqual([outcome]);
      const third = nextToken(T0 + 2 * MINUTE);
      expect(await ctx.store.rotateRefreshToken(tenantId, next.hash, third, T0 + 2 * MINUTE, noAudit())).toMatchObject({
        kind: 'rotated',
        family: { id: fam.id },
      });
      const markers = (await allAuditEvents(ctx.store, tenantId)).map((e) => e.resource.id);
      expect(markers).toContain(audit.marker);
    });

    it('a spent token presented again revokes the whole family with reason reuse', async () => {
      const { tenantId, fam, first } = await started();
      const next = nextToken(T0 + MINUTE);
      await ctx.store.rotateRefreshToken(tenantId, first.hash, next, T0 + MINUTE, noAudit());
      const audit = recorder<RotateOutcome>();
      const reused = await ctx.other.rotateRefreshToken(
        tenantId,
        first.hash,
        nextToken(T0 + 2 * MINUTE),
        T0 + 2 * MINUTE,
        audit.batch,
      );
      const revoked = { ...fam, revokedAtMs: T0 + 2 * MINUTE, revokedReason: 'reuse' };
      expect(reused).toEqual({ kind: 'reused', family: revoked });
      expect(audit.outcomes).toEqual([reused]);
      expect(await ctx.store.getRefreshFamily(tenantId, fam.id)).toEqual(revoked);
      // The unspent token of the revoked family is dead too.
      const late = await ctx.store.rotateRefreshToken(
        tenantId,
        next.hash,
        nextToken(T0 + 3 * MINUTE),
        T0 + 3 * MINUTE,
        noAudit(),
      );
      expect(late).toEqual({ kind: 'revoked' });
    });

    it('two clients racing to rotate the same token: one rotates, the other is reuse', async () => {
      const { tenantId, fam, first } = await started();
      const outcomes = await Promise.all([
        ctx.store.rotateRefreshToken(tenantId, first.hash, nextToken(T0 + MINUTE), T0 + MINUTE, noAudit()),
        ctx.other.rotateRefreshToken(tenantId, first.hash, nextToken(T0 + MINUTE), T0 + MINUTE, noAudit()),
      ]);
      expect(outcomes.map((o) => o.kind).sort()).toEqual(['reused', 'rotated']);
      expect((await ctx.store.getRefreshFamily(tenantId, fam.id))?.revokedReason).toBe('reuse');
    });

    it('an expired token or family reports expired and spends nothing', async () => {
      const { tenantId, first } = await started({}, 10 * MINUTE);
      const at = T0 + 10 * MINUTE;
      expect(await ctx.store.rotateRefreshToken(tenantId, first.hash, nextToken(at), at, noAudit())).toEqual({
        kind: 'expired',
      });
      // Not spent: presenting it again is still "expired", never "reused".
      expect(await ctx.other.rotateRefreshToken(tenantId, first.hash, nextToken(at), at + 1, noAudit())).toEqual({
        kind: 'expired',
      });

      const short = await started({ expiresAtMs: T0 + 5 * MINUTE });
      const after = T0 + 5 * MINUTE;
      expect(
        await ctx.store.rotateRefreshToken(short.tenantId, short.first.hash, nextToken(after), after, noAudit()),
      ).toEqual({
        kind: 'expired',
      });
    });

    it('an unknown token, or a token of another tenant, is not_found', async () => {
      const { first } = await started();
      const audit = recorder<RotateOutcome>();
      expect(await ctx.store.rotateRefreshToken(freshTenant(), first.hash, nextToken(T0), T0, audit.batch)).toEqual({
        kind: 'not_found',
      });
      expect(audit.outcomes).toEqual([{ kind: 'not_found' }]);
      const { tenantId } = await started();
      expect(await ctx.store.rotateRefreshToken(tenantId, hex(32), nextToken(T0), T0, noAudit())).toEqual({
        kind: 'not_found',
      });
    });

    it('revokeRefreshFamilyOf revokes the family of a token and returns its id; unknown → null', async () => {
      const { tenantId, fam, first } = await started();
      const next = nextToken(T0 + MINUTE);
      await ctx.store.rotateRefreshToken(tenantId, first.hash, next, T0 + MINUTE, noAudit());
      const audit = recorder<string | null>();
      expect(await ctx.other.revokeRefreshFamilyOf(tenantId, next.hash, 'logout', T0 + 2 * MINUTE, audit.batch)).toBe(
        fam.id,
      );
      expect(audit.outcomes).toEqual([fam.id]);
      expect(await ctx.store.getRefreshFamily(tenantId, fam.id)).toEqual({
        ...fam,
        revokedAtMs: T0 + 2 * MINUTE,
        revokedReason: 'logout',
      });
      const rotate = await ctx.store.rotateRefreshToken(
        tenantId,
        next.hash,
        nextToken(T0 + 3 * MINUTE),
        T0 + 3 * MINUTE,
        noAudit(),
      );
      expect(rotate).toEqual({ kind: 'revoked' });

      const unknown = recorder<string | null>();
      expect(await ctx.store.revokeRefreshFamilyOf(tenantId, hex(32), 'logout', T0, unknown.batch)).toBeNull();
      expect(unknown.outcomes).toEqual([null]);
      const markers = (await allAuditEvents(ctx.store, tenantId)).map((e) => e.resource.id);
      expect(markers).toEqual(expect.arrayContaining([audit.marker, unknown.marker]));
    });

    it('a second revocation keeps the first reason and time', async () => {
      const { tenantId, fam, first } = await started();
      await ctx.store.revokeRefreshFamilyOf(tenantId, first.hash, 'logout', T0 + MINUTE, noAudit());
      expect(await ctx.store.revokeRefreshFamilyOf(tenantId, first.hash, 'admin', T0 + 2 * MINUTE, noAudit())).toBe(
        fam.id,
      );
      expect(await ctx.store.getRefreshFamily(tenantId, fam.id)).toMatchObject({
        revokedAtMs: T0 + MINUTE,
        revokedReason: 'logout',
      });
    });
  });
}
