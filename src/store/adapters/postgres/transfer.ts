import type { AuditEvent } from '../../../audit/event.ts';
import type { TenantId } from '../../../core/types.ts';
import { AppError } from '../../../errors/index.ts';
import type { ApiKeyRecord, ConversationRecord, Store, TenantRecord, TurnRecord } from '../../port.ts';
import { checkConversation, firstBreak } from '../records.ts';
import { insertAuditEvents, lockAuditHead } from './audit-rows.ts';
import { API_KEY_COLUMNS, type ApiKeyRow, TENANT_COLUMNS, type TenantRow, toApiKey, toTenant } from './mapping.ts';
import { isUniqueViolation, type PgConnection } from './pool.ts';

/** The store methods behind `continuum export` and `continuum import`. */
export type TransferMethods = Pick<
  Store,
  'listTenants' | 'listApiKeys' | 'importTenant' | 'importConversation' | 'importAuditEvents'
>;

const INSERT_API_KEYS = `INSERT INTO api_keys (${API_KEY_COLUMNS})
  SELECT ${API_KEY_COLUMNS} FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
    AS k (${API_KEY_COLUMNS})`;
const INSERT_CONVERSATION = `INSERT INTO conversations
  (id, tenant_id, subject, title, metadata, client_key, started_at, created_at, genesis_hash, turn, head_hash, status, closed_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
  ON CONFLICT (id) DO NOTHING`;
const INSERT_TURNS = `INSERT INTO turns (conversation_id, number, tenant_id, role, content, created_at, prev_hash, hash)
  SELECT $1, t.number, $2, t.role, t.content, t.created_at, t.prev_hash, t.hash
  FROM unnest($3::integer[], $4::text[], $5::bytea[], $6::text[], $7::text[], $8::text[])
    AS t (number, role, content, created_at, prev_hash, hash)`;
// Turns per INSERT: keeps each statement's message small whatever the conversation's length.
const TURN_BATCH = 500;

/** Bind the export/import methods to `conn`. */
export function transferMethods(conn: PgConnection): TransferMethods {
  return {
    async listTenants(): Promise<TenantRecord[]> {
      const sql = `SELECT ${TENANT_COLUMNS} FROM tenants ORDER BY created_at, id`;
      const { rows } = await conn.run<TenantRow>('listTenants', sql, [], { idempotent: true });
      return rows.map(toTenant);
    },

    async listApiKeys(tenantId: TenantId): Promise<ApiKeyRecord[]> {
      const sql = `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id`;
      const { rows } = await conn.run<ApiKeyRow>('listApiKeys', sql, [tenantId], { idempotent: true });
      return rows.map(toApiKey);
    },

    async importTenant(tenant: TenantRecord, apiKeys: ApiKeyRecord[]): Promise<void> {
      for (const key of apiKeys) {
        if (key.tenantId !== tenant.id) {
          throw new TypeError(`importTenant: API key ${key.id} belongs to ${key.tenantId}, not ${tenant.id}`);
        }
      }
      const exists = (cause?: unknown) =>
        new AppError('tenant_exists', `A tenant with the id or name of ${tenant.id} (or one of its API keys) exists`, {
          cause,
        });
      await conn.transaction('importTenant', async (query) => {
        const taken = await query('SELECT 1 FROM tenants WHERE id = $1 OR name = $2', [tenant.id, tenant.name]);
        // Key hashes are unique across tenants: a taken one is the same export imported under another name.
        const keyTaken = await query('SELECT 1 FROM api_keys WHERE hash = ANY($1::text[])', [
          apiKeys.map((key) => key.hash),
        ]);
        if (taken.rowCount > 0 || keyTaken.rowCount > 0) throw exists();
        try {
          await query(`INSERT INTO tenants (${TENANT_COLUMNS}) VALUES ($1, $2, $3)`, [
            tenant.id,
            tenant.name,
            tenant.createdAt,
          ]);
          if (apiKeys.length > 0) {
            await query(INSERT_API_KEYS, [
              apiKeys.map((key) => key.tenantId),
              apiKeys.map((key) => key.id),
              apiKeys.map((key) => key.hash),
              apiKeys.map((key) => key.createdAt),
              apiKeys.map((key) => key.revokedAt),
            ]);
          }
        } catch (error) {
          // Another node imported or created the same tenant meanwhile.
          if (isUniqueViolation(error)) throw exists(error);
          throw error;
        }
      });
    },

    async importConversation(tenantId: TenantId, conversation: ConversationRecord, turns: TurnRecord[]): Promise<void> {
      checkConversation(tenantId, conversation, turns);
      // One transaction: nobody sees the conversation before its last turn.
      await conn.transaction('importConversation', async (query) => {
        const inserted = await query(INSERT_CONVERSATION, [
          conversation.id,
          tenantId,
          conversation.subject,
          conversation.title,
          conversation.metadata === null ? null : JSON.stringify(conversation.metadata),
          conversation.clientKey,
          conversation.startedAt,
          conversation.createdAt,
          conversation.genesisHash,
          conversation.turn,
          conversation.headHash,
          conversation.status,
          conversation.closedAt,
        ]);
        if (inserted.rowCount === 0) {
          throw new AppError('conversation_conflict', `Conversation ${conversation.id} already exists`);
        }
        for (let start = 0; start < turns.length; start += TURN_BATCH) {
          const batch = turns.slice(start, start + TURN_BATCH);
          await query(INSERT_TURNS, [
            conversation.id,
            tenantId,
            batch.map((turn) => turn.number),
            batch.map((turn) => turn.role),
            batch.map((turn) => turn.content),
            batch.map((turn) => turn.createdAt),
            batch.map((turn) => turn.prevHash),
            batch.map((turn) => turn.hash),
          ]);
        }
      });
    },

    async importAuditEvents(tenantId: TenantId, events: AuditEvent[]): Promise<void> {
      for (const event of events) {
        if (event.tenantId !== tenantId) {
          throw new TypeError(`importAuditEvents: event ${event.seq} belongs to ${event.tenantId}, not ${tenantId}`);
        }
      }
      if (events.length === 0) return;
      await conn.transaction('importAuditEvents', async (query) => {
        // The head stays locked until commit: no append can slip in between the check and the insert.
        const head = await lockAuditHead(query, tenantId);
        const broken = firstBreak(head, events);
        if (broken !== null)
          throw new AppError('turn_conflict', `The audit events do not continue the chain: ${broken}`);
        await insertAuditEvents(query, tenantId, events);
      });
    },
  };
}
