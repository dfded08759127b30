import { SYSTEM_TENANT as SYSTEM_CHAIN } from '../../../audit/event.ts';
import { dataKeyRewrapped } from '../../../audit/events.ts';
import type { TenantId } from '../../../core/types.ts';
import type { DataKeyRecord } from '../../../crypto/data-keys.ts';
import { AppError } from '../../../errors/index.ts';
import type {
  ApiKeyRecord,
  AuditBatch,
  RefreshFamilyRecord,
  RefreshTokenRecord,
  RotateOutcome,
  SigningKeyRecord,
  Store,
  TenantRecord,
} from '../../port.ts';
import type { SqliteConnection } from './connection.ts';
import { type FamilyRow, toApiKey, toDataKey, toFamily, toSigningKey, toTenant } from './mapping.ts';

/** The store methods over server secrets, signing and data keys, tenants, API keys and refresh tokens. */
export type CredentialMethods = Pick<
  Store,
  | 'getOrCreateSecret'
  | 'listSigningKeys'
  | 'insertSigningKey'
  | 'listDataKeys'
  | 'insertDataKey'
  | 'rewrapDataKey'
  | 'listTenantsWithDataKeys'
  | 'createTenant'
  | 'getTenant'
  | 'findApiKey'
  | 'createRefreshFamily'
  | 'rotateRefreshToken'
  | 'getRefreshFamily'
  | 'revokeRefreshFamilyOf'
>;

/** Bind the credential methods to `conn`. */
export function credentialMethods(conn: SqliteConnection): CredentialMethods {
  return {
    async getOrCreateSecret(name: string, create: () => string): Promise<string> {
      return conn.write('getOrCreateSecret', () => {
        conn.queries.insertMeta.run(name, create());
        return (conn.queries.getMeta.get(name) as { value: string }).value;
      });
    },

    async listSigningKeys(): Promise<SigningKeyRecord[]> {
      return conn.read('listSigningKeys', () =>
        conn.queries.listSigningKeys.all().map((row) => toSigningKey(row as never)),
      );
    },

    async insertSigningKey(record: SigningKeyRecord, retireKid: string | null, audit: AuditBatch<void>): Promise<void> {
      await conn.audited('insertSigningKey', SYSTEM_CHAIN, audit, () => {
        const q = conn.queries;
        q.insertSigningKey.run(
          record.kid,
          record.alg,
          record.privateJwk,
          record.publicJwk,
          record.createdAt,
          record.retiredAt,
        );
        if (retireKid !== null) q.retireSigningKey.run(record.createdAt, retireKid);
      });
    },

    async listDataKeys(tenantId: string): Promise<DataKeyRecord[]> {
      const rows = conn.read('listDataKeys', () => conn.queries.listDataKeys.all(tenantId));
      return rows.map((row) => toDataKey(row as never));
    },

    async insertDataKey(record: DataKeyRecord): Promise<boolean> {
      return conn.write(
        'insertDataKey',
        () =>
          conn.queries.insertDataKey.run(
            record.tenantId,
            record.version,
            record.masterKeyId,
            record.wrapped,
            record.createdAt,
          ).changes === 1,
      );
    },

    async rewrapDataKey(
      tenantId: string,
      version: number,
      expectedMasterKeyId: string,
      next: { masterKeyId: string; wrapped: Buffer },
    ): Promise<boolean> {
      return conn.write('rewrapDataKey', () => {
        const changed =
          conn.queries.rewrapDataKey.run(next.masterKeyId, next.wrapped, tenantId, version, expectedMasterKeyId)
            .changes === 1;
        // Audited only when this node's rewrap won; a lost race changed nothing.
        if (changed) {
          conn.auditQueries.append(
            tenantId,
            [dataKeyRewrapped(version, expectedMasterKeyId, next.masterKeyId)],
            new Date(),
          );
        }
        return changed;
      });
    },

    async listTenantsWithDataKeys(): Promise<string[]> {
      const rows = conn.read('listTenantsWithDataKeys', () => conn.queries.listTenantsWithDataKeys.all()) as {
        tenant_id: string;
      }[];
      return rows.map((row) => row.tenant_id);
    },

    async createTenant(tenant: TenantRecord, apiKey: ApiKeyRecord, audit: AuditBatch<void>): Promise<void> {
      await conn.audited('createTenant', tenant.id, audit, () => {
        const q = conn.queries;
        if (q.getTenantByName.get(tenant.name)) {
          throw new AppError('tenant_exists', `A tenant named ${JSON.stringify(tenant.name)} already exists`);
        }
        if (q.getTenant.get(tenant.id)) throw new AppError('tenant_exists', `Tenant ${tenant.id} already exists`);
        q.insertTenant.run(tenant.id, tenant.name, tenant.createdAt);
        q.insertApiKey.run(apiKey.tenantId, apiKey.id, apiKey.hash, apiKey.createdAt, apiKey.revokedAt);
      });
    },

    async getTenant(tenantId: TenantId): Promise<TenantRecord | null> {
      const row = conn.read('getTenant', () => conn.queries.getTenant.get(tenantId));
      return row ? toTenant(row as never) : null;
    },

    async findApiKey(tenantId: TenantId, hash: string): Promise<ApiKeyRecord | null> {
      const row = conn.read('findApiKey', () => conn.queries.findApiKey.get(tenantId, hash));
      return row ? toApiKey(row as never) : null;
    },

    async createRefreshFamily(
      tenantId: TenantId,
      family: RefreshFamilyRecord,
      first: RefreshTokenRecord,
      audit: AuditBatch<void>,
    ): Promise<void> {
      await conn.audited('createRefreshFamily', tenantId, audit, () => {
        const q = conn.queries;
        q.insertFamily.run(tenantId, family.id, family.subject, family.scope, family.createdAtMs, family.expiresAtMs);
        q.insertRefreshToken.run(tenantId, first.hash, family.id, first.createdAtMs, first.expiresAtMs);
      });
    },

    async rotateRefreshToken(
      tenantId: TenantId,
      oldHash: string,
      next: Omit<RefreshTokenRecord, 'familyId'>,
      nowMs: number,
      audit: AuditBatch<RotateOutcome>,
    ): Promise<RotateOutcome> {
      return conn.audited('rotateRefreshToken', tenantId, audit, (): RotateOutcome => {
        const q = conn.queries;
        const token = q.getRefreshToken.get(tenantId, oldHash) as
          | { family_id: string; expires_at_ms: number; used_at_ms: number | null }
          | undefined;
        if (!token) return { kind: 'not_found' };
        const familyRow = q.getFamily.get(tenantId, token.family_id) as FamilyRow | undefined;
        if (!familyRow) return { kind: 'not_found' };
        const family = toFamily(familyRow);
        if (family.revokedAtMs !== null) return { kind: 'revoked' };
        // A spent token presented again is reuse: revoke the whole family.
        if (token.used_at_ms !== null) {
          q.revokeFamily.run(nowMs, 'reuse', tenantId, family.id);
          return { kind: 'reused', family: { ...family, revokedAtMs: nowMs, revokedReason: 'reuse' } };
        }
        if (token.expires_at_ms <= nowMs || family.expiresAtMs <= nowMs) return { kind: 'expired' };
        q.spendRefreshToken.run(nowMs, tenantId, oldHash);
        const expiresAtMs = Math.min(next.expiresAtMs, family.expiresAtMs);
        q.insertRefreshToken.run(tenantId, next.hash, family.id, next.createdAtMs, expiresAtMs);
        return { kind: 'rotated', family };
      });
    },

    async getRefreshFamily(tenantId: TenantId, familyId: string): Promise<RefreshFamilyRecord | null> {
      const row = conn.read('getRefreshFamily', () => conn.queries.getFamily.get(tenantId, familyId));
      return row ? toFamily(row as FamilyRow) : null;
    },

    async revokeRefreshFamilyOf(
      tenantId: TenantId,
      hash: string,
      reason: string,
      atMs: number,
      audit: AuditBatch<string | null>,
    ): Promise<string | null> {
      return conn.audited('revokeRefreshFamilyOf', tenantId, audit, () => {
        const q = conn.queries;
        const token = q.getRefreshToken.get(tenantId, hash) as { family_id: string } | undefined;
        if (!token) return null;
        q.revokeFamily.run(atMs, reason, tenantId, token.family_id);
        return token.family_id;
      });
    },
  };
}
