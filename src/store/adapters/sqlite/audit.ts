import type { AuditCheckpoint } from '../../../audit/checkpoint.ts';
import type { AuditEvent, AuditEventInput } from '../../../audit/event.ts';
import { asTenantId, type TenantId } from '../../../core/types.ts';
import type { AuditHead, Store } from '../../port.ts';
import { type AuditRow, toAuditEvent, toCheckpoint } from './audit-rows.ts';
import type { SqliteConnection } from './connection.ts';

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

/** Bind the audit methods to `conn`. */
export function auditMethods(conn: SqliteConnection): AuditMethods {
  return {
    async appendAudit(tenantId: TenantId, events: AuditEventInput[], at: Date): Promise<AuditHead | null> {
      return conn.write('appendAudit', () => conn.auditQueries.append(tenantId, events, at));
    },

    async auditHead(tenantId: TenantId): Promise<AuditHead | null> {
      const row = conn.read('auditHead', () => conn.auditQueries.head.get(tenantId)) as AuditHead | undefined;
      return row ?? null;
    },

    async listAuditEvents(
      tenantId: TenantId,
      query: { afterSeq: number; limit: number; resourceId?: string },
    ): Promise<AuditEvent[]> {
      const rows = conn.read('listAuditEvents', () =>
        query.resourceId === undefined
          ? conn.auditQueries.list.all(tenantId, query.afterSeq, query.limit)
          : conn.auditQueries.listForResource.all(tenantId, query.resourceId, query.afterSeq, query.limit),
      ) as AuditRow[];
      return rows.map(toAuditEvent);
    },

    async insertAuditCheckpoint(cp: AuditCheckpoint): Promise<void> {
      await conn.write('insertAuditCheckpoint', () =>
        conn.auditQueries.insertCheckpoint.run(cp.tenantId, cp.seq, cp.hash, cp.at, cp.kid, cp.signature),
      );
    },

    async listAuditCheckpoints(tenantId: TenantId): Promise<AuditCheckpoint[]> {
      const rows = conn.read('listAuditCheckpoints', () => conn.auditQueries.listCheckpoints.all(tenantId));
      return (rows as Parameters<typeof toCheckpoint>[0][]).map(toCheckpoint);
    },

    async listAuditTenants(): Promise<TenantId[]> {
      const rows = conn.read('listAuditTenants', () => conn.auditQueries.tenants.all()) as { tenant_id: string }[];
      return rows.map((row) => asTenantId(row.tenant_id));
    },
  };
}
