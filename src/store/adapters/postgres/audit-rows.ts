import { sealEvent } from '../../../audit/chain.ts';
import type { AuditCheckpoint } from '../../../audit/checkpoint.ts';
import type { AuditEvent, AuditEventInput } from '../../../audit/event.ts';
import type { AuditHead } from '../../port.ts';
import type { Query } from './pool.ts';

// The columns of one event after its tenant.
const EVENT_COLUMNS = 'seq, at, action, actor, resource_type, resource_id, outcome, detail, prev_hash, hash';
/** Columns of `audit_events`, in the order the statements below use. */
export const AUDIT_COLUMNS = `tenant_id, ${EVENT_COLUMNS}`;
export const CHECKPOINT_COLUMNS = 'tenant_id, seq, hash, at, kid, signature';

export interface AuditRow {
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

export interface CheckpointRow {
  tenant_id: string;
  seq: number;
  hash: string;
  at: string;
  kid: string;
  signature: string;
}

// The head row is created on first use and locked until the transaction ends:
// appends of one tenant's chain queue here, whatever node they run on.
// ON CONFLICT DO UPDATE returns the latest committed head, even in READ COMMITTED.
const LOCK_HEAD = `INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, 0, '')
  ON CONFLICT (tenant_id) DO UPDATE SET seq = audit_heads.seq RETURNING seq, hash`;

const INSERT_EVENTS = `WITH inserted AS (
    INSERT INTO audit_events (${AUDIT_COLUMNS})
    SELECT $1, ${EVENT_COLUMNS} FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
      $8::text[], $9::text[], $10::text[], $11::text[]) AS e (${EVENT_COLUMNS})
  )
  UPDATE audit_heads SET seq = $12, hash = $13 WHERE tenant_id = $1`;

/** The tenant's chain head (the last event), read without a lock. */
export const AUDIT_HEAD = 'SELECT seq, hash FROM audit_events WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1';

/** The tenant's chain head, read without a lock. */
export async function readAuditHead(query: Query, tenantId: string): Promise<AuditHead | null> {
  const { rows } = await query<AuditHead>(AUDIT_HEAD, [tenantId]);
  return rows[0] ?? null;
}

/** Lock the tenant's chain head until the transaction ends and return it (null: empty chain). */
export async function lockAuditHead(query: Query, tenantId: string): Promise<AuditHead | null> {
  const { rows } = await query<AuditHead>(LOCK_HEAD, [tenantId]);
  const row = rows[0];
  return row === undefined || row.seq === 0 ? null : { seq: row.seq, hash: row.hash };
}

/** Insert sealed events that continue the locked head, and move the head to the last one. */
export async function insertAuditEvents(query: Query, tenantId: string, events: AuditEvent[]): Promise<void> {
  const last = events.at(-1);
  if (last === undefined) return;
  await query(INSERT_EVENTS, [
    tenantId,
    events.map((e) => e.seq),
    events.map((e) => e.at),
    events.map((e) => e.action),
    events.map((e) => JSON.stringify(e.actor)),
    events.map((e) => e.resource.type),
    events.map((e) => e.resource.id ?? null),
    events.map((e) => e.outcome),
    events.map((e) => (e.detail === undefined ? null : JSON.stringify(e.detail))),
    events.map((e) => e.prevHash),
    events.map((e) => e.hash),
    last.seq,
    last.hash,
  ]);
}

/** Seal `inputs` after the tenant's head and insert them. Call inside a transaction. */
export async function appendAuditEvents(
  query: Query,
  tenantId: string,
  inputs: AuditEventInput[],
  at: Date,
): Promise<AuditHead | null> {
  if (inputs.length === 0) return readAuditHead(query, tenantId);
  let head = await lockAuditHead(query, tenantId);
  const events: AuditEvent[] = [];
  for (const input of inputs) {
    const event = sealEvent(head, tenantId, input, at);
    events.push(event);
    head = { seq: event.seq, hash: event.hash };
  }
  await insertAuditEvents(query, tenantId, events);
  return head;
}

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

export function toCheckpoint(row: CheckpointRow): AuditCheckpoint {
  return { tenantId: row.tenant_id, seq: row.seq, hash: row.hash, at: row.at, kid: row.kid, signature: row.signature };
}
