import type { TenantId } from '../../../core/types.ts';
import { storeUnavailable } from '../../errors.ts';
import type { AuditBatch, RefreshFamilyRecord, RefreshTokenRecord, RotateOutcome, Store } from '../../port.ts';
import type { AuditChains, Plan } from './audit-chain.ts';
import type { DynamoContext } from './client.ts';
import { key } from './keys.ts';
import { FAMILY_ATTRS, familyItem, toFamily } from './mapping.ts';
import { absent, checkAction, getItem, putAction, updateAction } from './requests.ts';

/** The store methods over refresh-token families (ADR-001: single use, rotation, reuse detection). */
export type RefreshTokenMethods = Pick<
  Store,
  'createRefreshFamily' | 'rotateRefreshToken' | 'getRefreshFamily' | 'revokeRefreshFamilyOf'
>;

/** Bind the refresh-token methods to `ctx`. Each family and each token is an item of its own. */
export function refreshTokenMethods(ctx: DynamoContext, chains: AuditChains): RefreshTokenMethods {
  const table = ctx.table;
  const readFamily = async (operation: string, tenantId: string, familyId: string) => {
    const item = await getItem(ctx, operation, key.family(tenantId, familyId), FAMILY_ATTRS);
    return item === undefined ? null : toFamily(item);
  };

  return {
    async createRefreshFamily(
      tenantId: TenantId,
      family: RefreshFamilyRecord,
      first: RefreshTokenRecord,
      audit: AuditBatch<void>,
    ): Promise<void> {
      const duplicate = () => storeUnavailable('createRefreshFamily', new Error('refresh family or token exists'));
      await chains.audited('createRefreshFamily', tenantId, audit, async () => ({
        outcome: undefined,
        writes: [
          { action: putAction(table, familyItem({ ...family, tenantId }), absent), conflict: duplicate },
          { action: putAction(table, tokenItem(tenantId, first), absent), conflict: duplicate },
        ],
      }));
    },

    async rotateRefreshToken(
      tenantId: TenantId,
      oldHash: string,
      next: Omit<RefreshTokenRecord, 'familyId'>,
      nowMs: number,
      audit: AuditBatch<RotateOutcome>,
    ): Promise<RotateOutcome> {
      const { outcome } = await chains.audited(
        'rotateRefreshToken',
        tenantId,
        audit,
        async (): Promise<Plan<RotateOutcome>> => {
          const token = await getItem(ctx, 'rotateRefreshToken', key.refreshToken(tenantId, oldHash), [
            'familyId',
            'expiresAtMs',
            'usedAtMs',
          ]);
          if (token === undefined) return { outcome: { kind: 'not_found' }, writes: [] };
          const family = await readFamily('rotateRefreshToken', tenantId, token.familyId as string);
          if (family === null) return { outcome: { kind: 'not_found' }, writes: [] };
          if (family.revokedAtMs !== null) return { outcome: { kind: 'revoked' }, writes: [] };
          // A spent token presented again is reuse: revoke the whole family.
          if (token.usedAtMs !== undefined) {
            return {
              outcome: { kind: 'reused', family: { ...family, revokedAtMs: nowMs, revokedReason: 'reuse' } },
              writes: [{ action: revokeAction(table, tenantId, family.id, 'reuse', nowMs) }],
            };
          }
          if ((token.expiresAtMs as number) <= nowMs || family.expiresAtMs <= nowMs) {
            return { outcome: { kind: 'expired' }, writes: [] };
          }
          const expiresAtMs = Math.min(next.expiresAtMs, family.expiresAtMs);
          const duplicate = () => storeUnavailable('rotateRefreshToken', new Error('the next refresh token exists'));
          return {
            outcome: { kind: 'rotated', family },
            writes: [
              {
                action: updateAction(table, key.refreshToken(tenantId, oldHash), (e) => ({
                  update: `SET ${e.name('usedAtMs')} = ${e.value(nowMs)}`,
                  condition: `attribute_exists(${e.name('PK')}) AND attribute_not_exists(${e.name('usedAtMs')})`,
                })),
              },
              {
                action: putAction(table, tokenItem(tenantId, { ...next, familyId: family.id, expiresAtMs }), absent),
                conflict: duplicate,
              },
              {
                action: checkAction(
                  table,
                  key.family(tenantId, family.id),
                  (e) => `attribute_not_exists(${e.name('revokedAtMs')})`,
                ),
              },
            ],
          };
        },
      );
      return outcome;
    },

    getRefreshFamily(tenantId: TenantId, familyId: string): Promise<RefreshFamilyRecord | null> {
      return readFamily('getRefreshFamily', tenantId, familyId);
    },

    async revokeRefreshFamilyOf(
      tenantId: TenantId,
      hash: string,
      reason: string,
      atMs: number,
      audit: AuditBatch<string | null>,
    ): Promise<string | null> {
      const { outcome } = await chains.audited(
        'revokeRefreshFamilyOf',
        tenantId,
        audit,
        async (): Promise<Plan<string | null>> => {
          const token = await getItem(ctx, 'revokeRefreshFamilyOf', key.refreshToken(tenantId, hash), ['familyId']);
          if (token === undefined) return { outcome: null, writes: [] };
          const familyId = token.familyId as string;
          const family = await readFamily('revokeRefreshFamilyOf', tenantId, familyId);
          // A family already revoked keeps its first reason and time.
          if (family === null || family.revokedAtMs !== null) return { outcome: familyId, writes: [] };
          return { outcome: familyId, writes: [{ action: revokeAction(table, tenantId, familyId, reason, atMs) }] };
        },
      );
      return outcome;
    },
  };
}

function tokenItem(tenantId: string, token: RefreshTokenRecord) {
  return {
    ...key.refreshToken(tenantId, token.hash),
    hash: token.hash,
    familyId: token.familyId,
    createdAtMs: token.createdAtMs,
    expiresAtMs: token.expiresAtMs,
  };
}

function revokeAction(table: string, tenantId: string, familyId: string, reason: string, atMs: number) {
  return updateAction(table, key.family(tenantId, familyId), (e) => ({
    update: `SET ${e.name('revokedAtMs')} = ${e.value(atMs)}, ${e.name('revokedReason')} = ${e.value(reason)}`,
    condition: `attribute_exists(${e.name('PK')}) AND attribute_not_exists(${e.name('revokedAtMs')})`,
  }));
}
