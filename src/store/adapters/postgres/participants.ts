import { SYSTEM_TENANT as SYSTEM_CHAIN } from '../../../audit/event.ts';
import type { ConversationId, TenantId } from '../../../core/types.ts';
import type { AuditBatch, FlagRecord, ParticipantRecord, Store } from '../../port.ts';
import { type AddResult, addAnswer, addAudit, checkFlag, checkParticipant } from '../records.ts';
import type { PgConnection } from './pool.ts';

/** The store methods over conversation participants and feature flags. */
export type ParticipantMethods = Pick<
  Store,
  'addParticipant' | 'removeParticipant' | 'listParticipants' | 'isParticipant' | 'listFlags' | 'putFlag'
>;

interface ParticipantRow {
  subject: string;
  added_by: string;
  added_at: string;
}

interface FlagRow {
  name: string;
  enabled: boolean;
  tenants: string[];
  percent: number;
  updated_at: string;
}

const OWNER = 'SELECT subject FROM conversations WHERE tenant_id = $1 AND id = $2';
// Of racing inserts of one subject, the later ones wait for the first to commit and then do nothing.
const INSERT = `INSERT INTO participants (tenant_id, conversation_id, subject, added_by, added_at)
  VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`;
const DELETE = 'DELETE FROM participants WHERE tenant_id = $1 AND conversation_id = $2 AND subject = $3';
const LIST = `SELECT subject, added_by, added_at FROM participants
  WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY added_at, subject`;
const FIND = 'SELECT 1 FROM participants WHERE tenant_id = $1 AND conversation_id = $2 AND subject = $3';
const LIST_FLAGS = 'SELECT name, enabled, tenants, percent, updated_at FROM flags ORDER BY name';
const PUT_FLAG = `INSERT INTO flags (name, enabled, tenants, percent, updated_at) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (name) DO UPDATE SET enabled = EXCLUDED.enabled, tenants = EXCLUDED.tenants,
    percent = EXCLUDED.percent, updated_at = EXCLUDED.updated_at`;

/** Bind the participant and flag methods to `conn`. */
export function participantMethods(conn: PgConnection): ParticipantMethods {
  const read = <R>(operation: string, text: string, values: unknown[]) =>
    conn.run<R>(operation, text, values, { idempotent: true }).then((result) => result.rows);

  return {
    // Adds and removes are not retried once COMMIT may have been applied: a repeat would answer false
    // for a change that was made, and audit it twice.
    async addParticipant(
      tenantId: TenantId,
      conversationId: ConversationId,
      participant: ParticipantRecord,
      audit: AuditBatch<boolean>,
    ): Promise<boolean> {
      checkParticipant('addParticipant', participant);
      const result = await conn.audited(
        'addParticipant',
        tenantId,
        addAudit(audit),
        async (query): Promise<AddResult> => {
          const { rows } = await query<{ subject: string }>(OWNER, [tenantId, conversationId]);
          const owner = rows[0];
          if (owner === undefined) return { found: false, added: false };
          // The owner takes part already; it is never stored as a participant.
          if (owner.subject === participant.subject) return { found: true, added: false };
          const { rowCount } = await query(INSERT, [
            tenantId,
            conversationId,
            participant.subject,
            participant.addedBy,
            participant.addedAt,
          ]);
          return { found: true, added: rowCount === 1 };
        },
      );
      return addAnswer(conversationId, result);
    },

    async removeParticipant(
      tenantId: TenantId,
      conversationId: ConversationId,
      subject: string,
      audit: AuditBatch<boolean>,
    ): Promise<boolean> {
      return conn.audited(
        'removeParticipant',
        tenantId,
        audit,
        async (query) => (await query(DELETE, [tenantId, conversationId, subject])).rowCount === 1,
      );
    },

    async listParticipants(tenantId: TenantId, conversationId: ConversationId): Promise<ParticipantRecord[]> {
      const rows = await read<ParticipantRow>('listParticipants', LIST, [tenantId, conversationId]);
      return rows.map((row) => ({ subject: row.subject, addedBy: row.added_by, addedAt: row.added_at }));
    },

    async isParticipant(tenantId: TenantId, conversationId: ConversationId, subject: string): Promise<boolean> {
      return (await read('isParticipant', FIND, [tenantId, conversationId, subject])).length > 0;
    },

    async listFlags(): Promise<FlagRecord[]> {
      const rows = await read<FlagRow>('listFlags', LIST_FLAGS, []);
      return rows.map((row) => ({
        name: row.name,
        enabled: row.enabled,
        tenants: row.tenants,
        percent: row.percent,
        updatedAt: row.updated_at,
      }));
    },

    async putFlag(flag: FlagRecord, audit: AuditBatch<void>): Promise<void> {
      checkFlag(flag);
      await conn.audited('putFlag', SYSTEM_CHAIN, audit, async (query) => {
        await query(PUT_FLAG, [flag.name, flag.enabled, flag.tenants, flag.percent, flag.updatedAt]);
      });
    },
  };
}
