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
import { appendAuditEvents } from './audit-rows.ts';
import {
  API_KEY_COLUMNS,
  type ApiKeyRow,
  DATA_KEY_COLUMNS,
  type DataKeyRow,
  FAMILY_COLUMNS,
  type FamilyRow,
  SIGNING_KEY_COLUMNS,
  type SigningKeyRow,
  TENANT_COLUMNS,
  type TenantRow,
  toApiKey,
  toDataKey,
  toFamily,
  toSigningKey,
  toTenant,
} from './mapping.ts';
import { isUniqueViolation, type PgConnection } from './pool.ts';

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

const GET_FAMILY = `SELECT ${FAMILY_COLUMNS} FROM refresh_families WHERE tenant_id = $1 AND id = $2`;
const REVOKE_FAMILY = `UPDATE refresh_families SET revoked_at_ms = $1, revoked_reason = $2
  WHERE tenant_id = $3 AND id = $4 AND revoked_at_ms IS NULL`;
const INSERT_TOKEN = `INSERT INTO refresh_tokens (tenant_id, hash, family_id, created_at_ms, expires_at_ms)
  VALUES ($1, $2, $3, $4, $5)`;

const tenantExists = (name: string, cause?: unknown) =>
  new AppError('tenant_exists', `A tenant named ${JSON.stringify(name)} (or with this id) already exists`, { cause });

/** Bind the credential methods to `conn`. */
export function credentialMethods(conn: PgConnection): CredentialMethods {
  const read = <R>(operation: string, text: string, values: unknown[]) =>
    conn.run<R>(operation, text, values, { idempotent: true }).then((result) => result.rows);

  return {
    async getOrCreateSecret(name: string, create: () => string): Promise<string> {
      const get = 'SELECT value FROM meta WHERE key = $1';
      const existing = await read<{ value: string }>('getOrCreateSecret', get, [name]);
      if (existing[0] !== undefined) return existing[0].value;
      return conn.transaction(
        'getOrCreateSecret',
        async (query) => {
          await query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [name, create()]);
          // A new statement sees the winner of a race (READ COMMITTED).
          const { rows } = await query<{ value: string }>(get, [name]);
          return rows[0]!.value;
        },
        { idempotent: true },
      );
    },

    async listSigningKeys(): Promise<SigningKeyRecord[]> {
      const sql = `SELECT ${SIGNING_KEY_COLUMNS} FROM signing_keys ORDER BY created_at, kid`;
      return (await read<SigningKeyRow>('listSigningKeys', sql, [])).map(toSigningKey);
    },

    async insertSigningKey(record: SigningKeyRecord, retireKid: string | null, audit: AuditBatch<void>): Promise<void> {
      await conn.audited('insertSigningKey', SYSTEM_CHAIN, audit, async (query) => {
        await query(`INSERT INTO signing_keys (${SIGNING_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`, [
          record.kid,
          record.alg,
          record.privateJwk,
          record.publicJwk,
          record.createdAt,
          record.retiredAt,
        ]);
        if (retireKid !== null) {
          await query('UPDATE signing_keys SET retired_at = $1 WHERE kid = $2 AND retired_at IS NULL', [
            record.createdAt,
            retireKid,
          ]);
        }
      });
    },

    async listDataKeys(tenantId: string): Promise<DataKeyRecord[]> {
      const sql = `SELECT ${DATA_KEY_COLUMNS} FROM data_keys WHERE tenant_id = $1 ORDER BY version`;
      return (await read<DataKeyRow>('listDataKeys', sql, [tenantId])).map(toDataKey);
    },

    async insertDataKey(record: DataKeyRecord): Promise<boolean> {
      const { rowCount } = await conn.run(
        'insertDataKey',
        `INSERT INTO data_keys (${DATA_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [record.tenantId, record.version, record.masterKeyId, record.wrapped, record.createdAt],
        // A retry after a lost commit answers false, and the caller then reads the stored key: the same one.
        { idempotent: true },
      );
      return rowCount === 1;
    },

    async rewrapDataKey(
      tenantId: string,
      version: number,
      expectedMasterKeyId: string,
      next: { masterKeyId: string; wrapped: Buffer },
    ): Promise<boolean> {
      return conn.transaction('rewrapDataKey', async (query) => {
        const { rowCount } = await query(
          `UPDATE data_keys SET master_key_id = $1, wrapped = $2
           WHERE tenant_id = $3 AND version = $4 AND master_key_id = $5`,
          [next.masterKeyId, next.wrapped, tenantId, version, expectedMasterKeyId],
        );
        // Audited only when this node's rewrap won; a lost race changed nothing.
        if (rowCount !== 1) return false;
        await appendAuditEvents(
          query,
          tenantId,
          [dataKeyRewrapped(version, expectedMasterKeyId, next.masterKeyId)],
          new Date(),
        );
        return true;
      });
    },

    async listTenantsWithDataKeys(): Promise<string[]> {
      const sql = 'SELECT DISTINCT tenant_id FROM data_keys ORDER BY tenant_id';
      return (await read<{ tenant_id: string }>('listTenantsWithDataKeys', sql, [])).map((row) => row.tenant_id);
    },

    async createTenant(tenant: TenantRecord, apiKey: ApiKeyRecord, audit: AuditBatch<void>): Promise<void> {
      await conn.audited('createTenant', tenant.id, audit, async (query) => {
        const taken = await query('SELECT 1 FROM tenants WHERE name = $1', [tenant.name]);
        if (taken.rowCount > 0) throw tenantExists(tenant.name);
        try {
          await query(`INSERT INTO tenants (${TENANT_COLUMNS}) VALUES ($1, $2, $3)`, [
            tenant.id,
            tenant.name,
            tenant.createdAt,
          ]);
        } catch (error) {
          // A racing create of the same name (or id) lost on the unique key.
          if (isUniqueViolation(error)) throw tenantExists(tenant.name, error);
          throw error;
        }
        await query(`INSERT INTO api_keys (${API_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, [
          apiKey.tenantId,
          apiKey.id,
          apiKey.hash,
          apiKey.createdAt,
          apiKey.revokedAt,
        ]);
      });
    },

    async getTenant(tenantId: TenantId): Promise<TenantRecord | null> {
      const rows = await read<TenantRow>('getTenant', `SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = $1`, [
        tenantId,
      ]);
      return rows[0] ? toTenant(rows[0]) : null;
    },

    async findApiKey(tenantId: TenantId, hash: string): Promise<ApiKeyRecord | null> {
      const sql = `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND hash = $2`;
      const rows = await read<ApiKeyRow>('findApiKey', sql, [tenantId, hash]);
      return rows[0] ? toApiKey(rows[0]) : null;
    },

    async createRefreshFamily(
      tenantId: TenantId,
      family: RefreshFamilyRecord,
      first: RefreshTokenRecord,
      audit: AuditBatch<void>,
    ): Promise<void> {
      await conn.audited('createRefreshFamily', tenantId, audit, async (query) => {
        await query(
          `INSERT INTO refresh_families (tenant_id, id, subject, scope, created_at_ms, expires_at_ms)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [tenantId, family.id, family.subject, family.scope, family.createdAtMs, family.expiresAtMs],
        );
        await query(INSERT_TOKEN, [tenantId, first.hash, family.id, first.createdAtMs, first.expiresAtMs]);
      });
    },

    async rotateRefreshToken(
      tenantId: TenantId,
      oldHash: string,
      next: Omit<RefreshTokenRecord, 'familyId'>,
      nowMs: number,
      audit: AuditBatch<RotateOutcome>,
    ): Promise<RotateOutcome> {
      return conn.audited('rotateRefreshToken', tenantId, audit, async (query): Promise<RotateOutcome> => {
        // Locked: of two nodes presenting the same token at once, the second sees it spent (reuse).
        const tokens = await query<{ family_id: string; expires_at_ms: number; used_at_ms: number | null }>(
          'SELECT family_id, expires_at_ms, used_at_ms FROM refresh_tokens WHERE tenant_id = $1 AND hash = $2 FOR UPDATE',
          [tenantId, oldHash],
        );
        const token = tokens.rows[0];
        if (!token) return { kind: 'not_found' };
        const families = await query<FamilyRow>(`${GET_FAMILY} FOR UPDATE`, [tenantId, token.family_id]);
        const familyRow = families.rows[0];
        if (!familyRow) return { kind: 'not_found' };
        const family = toFamily(familyRow);
        if (family.revokedAtMs !== null) return { kind: 'revoked' };
        // A spent token presented again is reuse: revoke the whole family.
        if (token.used_at_ms !== null) {
          await query(REVOKE_FAMILY, [nowMs, 'reuse', tenantId, family.id]);
          return { kind: 'reused', family: { ...family, revokedAtMs: nowMs, revokedReason: 'reuse' } };
        }
        if (token.expires_at_ms <= nowMs || family.expiresAtMs <= nowMs) return { kind: 'expired' };
        await query('UPDATE refresh_tokens SET used_at_ms = $1 WHERE tenant_id = $2 AND hash = $3', [
          nowMs,
          tenantId,
          oldHash,
        ]);
        const expiresAtMs = Math.min(next.expiresAtMs, family.expiresAtMs);
        await query(INSERT_TOKEN, [tenantId, next.hash, family.id, next.createdAtMs, expiresAtMs]);
        return { kind: 'rotated', family };
      });
    },

    async getRefreshFamily(tenantId: TenantId, familyId: string): Promise<RefreshFamilyRecord | null> {
      const rows = await read<FamilyRow>('getRefreshFamily', GET_FAMILY, [tenantId, familyId]);
      return rows[0] ? toFamily(rows[0]) : null;
    },

    async revokeRefreshFamilyOf(
      tenantId: TenantId,
      hash: string,
      reason: string,
      atMs: number,
      audit: AuditBatch<string | null>,
    ): Promise<string | null> {
      return conn.audited(
        'revokeRefreshFamilyOf',
        tenantId,
        audit,
        async (query) => {
          const { rows } = await query<{ family_id: string }>(
            'SELECT family_id FROM refresh_tokens WHERE tenant_id = $1 AND hash = $2',
            [tenantId, hash],
          );
          const token = rows[0];
          if (!token) return null;
          await query(REVOKE_FAMILY, [atMs, reason, tenantId, token.family_id]);
          return token.family_id;
        },
        { idempotent: true },
      );
    },
  };
}
