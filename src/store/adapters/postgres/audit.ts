import type { AuditCheckpoint } from '../../../audit/checkpoint.ts';
import type { AuditEvent, AuditEventInput } from '../../../audit/event.ts';
import { asTenantId, type TenantId } from '../../../core/types.ts';
import type { AuditHead, Store } from '../../port.ts';
import {
  AUDIT_COLUMNS,
  AUDIT_HEAD,
  type AuditRow,
  appendAuditEvents,
  CHECKPOINT_COLUMNS,
  type CheckpointRow,
  toAuditEvent,
  toCheckpoint,
} from './audit-rows.ts';
import type { PgConnection } from './pool.ts';

/** The store methods over the audit chain and its signed checkpoints. */
export type AuditMethods = Pick<
  Store,
  | 'appendAudit'
  | 'auditHead'
  | 'listAuditEvents'
  | 'insertAuditCheckpoint'
  | 'listAuditCheckpoints'
  | 'listAuditTenants'
>;

const LIST = `SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`;
const LIST_FOR_RESOURCE = `SELECT ${AUDIT_COLUMNS} FROM audit_events
  WHERE tenant_id = $1 AND resource_id = $4 AND seq > $2 ORDER BY seq LIMIT $3`;

/** Bind the audit methods to `conn`. */
export function auditMethods(conn: PgConnection): AuditMethods {
  const read = <R>(operation: string, text: string, values: unknown[]) =>
    conn.run<R>(operation, text, values, { idempotent: true }).then((result) => result.rows);

  return {
    // Not retried once COMMIT may have been applied: a repeat would chain the events twice.
    async appendAudit(tenantId: TenantId, events: AuditEventInput[], at: Date): Promise<AuditHead | null> {
      return conn.transaction('appendAudit', (query) => appendAuditEvents(query, tenantId, events, at));
    },

    async auditHead(tenantId: TenantId): Promise<AuditHead | null> {
      return (await read<AuditHead>('auditHead', AUDIT_HEAD, [tenantId]))[0] ?? null;
    },

    async listAuditEvents(
      tenantId: TenantId,
      query: { afterSeq: number; limit: number; resourceId?: string },
    ): Promise<AuditEvent[]> {
      const rows =
        query.resourceId === undefined
          ? await read<AuditRow>('listAuditEvents', LIST, [tenantId, query.afterSeq, query.limit])
          : await read<AuditRow>('listAuditEvents', LIST_FOR_RESOURCE, [
              tenantId,
              query.afterSeq,
              query.limit,
              query.resourceId,
            ]);
      return rows.map(toAuditEvent);
    },

    async insertAuditCheckpoint(cp: AuditCheckpoint): Promise<void> {
      await conn.run(
        'insertAuditCheckpoint',
        `INSERT INTO audit_checkpoints (${CHECKPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [cp.tenantId, cp.seq, cp.hash, cp.at, cp.kid, cp.signature],
        { idempotent: true },
      );
    },

    async listAuditCheckpoints(tenantId: TenantId): Promise<AuditCheckpoint[]> {
      const sql = `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY seq`;
      return (await read<CheckpointRow>('listAuditCheckpoints', sql, [tenantId])).map(toCheckpoint);
    },

    async listAuditTenants(): Promise<TenantId[]> {
      // The head table has one row per chain: no scan of the events.
      const sql = 'SELECT tenant_id FROM audit_heads WHERE seq > 0 ORDER BY tenant_id';
      return (await read<{ tenant_id: string }>('listAuditTenants', sql, [])).map((row) => asTenantId(row.tenant_id));
    },
  };
}
