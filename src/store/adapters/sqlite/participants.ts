import { SYSTEM_TENANT as SYSTEM_CHAIN } from '../../../audit/event.ts';
import type { ConversationId, TenantId } from '../../../core/types.ts';
import type { AuditBatch, FlagRecord, ParticipantRecord, Store } from '../../port.ts';
import { type AddResult, addAnswer, addAudit, checkFlag, checkParticipant } from '../records.ts';
import type { SqliteConnection } from './connection.ts';

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
  enabled: number;
  tenants: string;
  percent: number;
  updated_at: string;
}

const toParticipant = (row: ParticipantRow): ParticipantRecord => ({
  subject: row.subject,
  addedBy: row.added_by,
  addedAt: row.added_at,
});

const toFlag = (row: FlagRow): FlagRecord => ({
  name: row.name,
  enabled: row.enabled === 1,
  tenants: JSON.parse(row.tenants) as string[],
  percent: row.percent,
  updatedAt: row.updated_at,
});

/** Bind the participant and flag methods to `conn`. */
export function participantMethods(conn: SqliteConnection): ParticipantMethods {
  const q = () => conn.queries;
  return {
    async addParticipant(
      tenantId: TenantId,
      conversationId: ConversationId,
      participant: ParticipantRecord,
      audit: AuditBatch<boolean>,
    ): Promise<boolean> {
      checkParticipant('addParticipant', participant);
      const result = await conn.audited('addParticipant', tenantId, addAudit(audit), (): AddResult => {
        const conversation = q().getConversation.get(tenantId, conversationId) as { subject: string } | undefined;
        if (!conversation) return { found: false, added: false };
        // The owner takes part already; it is never stored as a participant.
        if (conversation.subject === participant.subject) return { found: true, added: false };
        const { changes } = q().insertParticipant.run(
          tenantId,
          conversationId,
          participant.subject,
          participant.addedBy,
          participant.addedAt,
        );
        return { found: true, added: changes === 1 };
      });
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
        () => q().deleteParticipant.run(tenantId, conversationId, subject).changes === 1,
      );
    },

    async listParticipants(tenantId: TenantId, conversationId: ConversationId): Promise<ParticipantRecord[]> {
      const rows = conn.read('listParticipants', () => q().listParticipants.all(tenantId, conversationId));
      return (rows as ParticipantRow[]).map(toParticipant);
    },

    async isParticipant(tenantId: TenantId, conversationId: ConversationId, subject: string): Promise<boolean> {
      return conn.read('isParticipant', () => q().getParticipant.get(tenantId, conversationId, subject)) !== undefined;
    },

    async listFlags(): Promise<FlagRecord[]> {
      return (conn.read('listFlags', () => q().listFlags.all()) as FlagRow[]).map(toFlag);
    },

    async putFlag(flag: FlagRecord, audit: AuditBatch<void>): Promise<void> {
      checkFlag(flag);
      await conn.audited('putFlag', SYSTEM_CHAIN, audit, () => {
        q().putFlag.run(flag.name, flag.enabled ? 1 : 0, JSON.stringify(flag.tenants), flag.percent, flag.updatedAt);
      });
    },
  };
}
