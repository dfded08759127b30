import type Database from 'better-sqlite3';
import { sealEvent } from '../../../audit/chain.ts';
import type { AuditCheckpoint } from '../../../audit/checkpoint.ts';
import type { AuditEvent, AuditEventInput } from '../../../audit/event.ts';
import type { AuditHead } from '../../port.ts';

interface AuditRow {
  tenant_id: string;
  seq: number;
  at: string;
  action: string;
  actor: string;
  resource_type: string;
  resource_id: string | null;
  outcome: string;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

/** Statements and row mapping of the audit tables. */
export function prepareAuditQueries(db: Database.Database) {
  const columns = 'tenant_id, seq, at, action, actor, resource_type, resource_id, outcome, detail, prev_hash, hash';
  const statements = {
    head: db.prepare('SELECT seq, hash FROM audit_events WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1'),
    insert: db.prepare(`INSERT INTO audit_events (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    list: db.prepare(`SELECT ${columns} FROM audit_events WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`),
    listForResource: db.prepare(
      `SELECT ${columns} FROM audit_events WHERE tenant_id = ? AND resource_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    ),
    insertCheckpoint: db.prepare(
      'INSERT INTO audit_checkpoints (tenant_id, seq, hash, at, kid, signature) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    listCheckpoints: db.prepare(
      'SELECT tenant_id, seq, hash, at, kid, signature FROM audit_checkpoints WHERE tenant_id = ? ORDER BY seq',
    ),
    tenants: db.prepare('SELECT DISTINCT tenant_id FROM audit_events ORDER BY tenant_id'),
  };
  return {
    ...statements,
    /** Seal and insert `inputs` after the tenant's current head. Call inside a write transaction. */
    append(tenantId: string, inputs: AuditEventInput[], at: Date): AuditHead | null {
      let head = (statements.head.get(tenantId) as AuditHead | undefined) ?? null;
      for (const input of inputs) {
        const event = sealEvent(head, tenantId, input, at);
        statements.insert.run(
          tenantId,
          event.seq,
          event.at,
          event.action,
          JSON.stringify(event.actor),
          event.resource.type,
          event.resource.id ?? null,
          event.outcome,
          event.detail === undefined ? null : JSON.stringify(event.detail),
          event.prevHash,
          event.hash,
        );
        head = { seq: event.seq, hash: event.hash };
      }
      return head;
    },
  };
}

export type AuditQueries = ReturnType<typeof prepareAuditQueries>;

export function toAuditEvent(row: AuditRow): AuditEvent {
  return {
    tenantId: row.tenant_id,
    seq: row.seq,
    at: row.at,
    action: row.action,
    actor: JSON.parse(row.actor) as AuditEvent['actor'],
    resource: {
      type: row.resource_type as AuditEvent['resource']['type'],
      ...(row.resource_id === null ? {} : { id: row.resource_id }),
    },
    outcome: row.outcome as AuditEvent['outcome'],
    ...(row.detail === null ? {} : { detail: JSON.parse(row.detail) as Record<string, string | number | boolean> }),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export function toCheckpoint(row: {
  tenant_id: string;
  seq: number;
  hash: string;
  at: string;
  kid: string;
  signature: string;
}): AuditCheckpoint {
  return { tenantId: row.tenant_id, seq: row.seq, hash: row.hash, at: row.at, kid: row.kid, signature: row.signature };
}

export type { AuditRow };
