import { SYSTEM_TENANT as SYSTEM_CHAIN } from '../../../audit/event.ts';
import type { ConversationId, TenantId } from '../../../core/types.ts';
import type { AuditBatch, FlagRecord, ParticipantRecord, Store } from '../../port.ts';
import { type AddResult, addAnswer, addAudit, byAddedAt, checkFlag, checkParticipant } from '../records.ts';
import type { AuditChains, Plan } from './audit-chain.ts';
import type { DynamoContext } from './client.ts';
import { key, PARTICIPANT_PREFIX, partition } from './keys.ts';
import { absent, deleteAction, getItem, type Item, present, putAction, queryItems } from './requests.ts';

/** The store methods over conversation participants and feature flags. */
export type ParticipantMethods = Pick<
  Store,
  'addParticipant' | 'removeParticipant' | 'listParticipants' | 'isParticipant' | 'listFlags' | 'putFlag'
>;

const PARTICIPANT_ATTRS = ['subject', 'addedBy', 'addedAt'] as const;
const FLAG_ATTRS = ['name', 'enabled', 'tenants', 'percent', 'updatedAt'] as const;

const participantItem = (tenantId: string, conversationId: string, participant: ParticipantRecord): Item => ({
  ...key.participant(tenantId, conversationId, participant.subject),
  subject: participant.subject,
  addedBy: participant.addedBy,
  addedAt: participant.addedAt,
});

const toParticipant = (item: Item): ParticipantRecord => ({
  subject: item.subject as string,
  addedBy: item.addedBy as string,
  addedAt: item.addedAt as string,
});

// Tenants are a list attribute (an empty list is allowed, unlike an empty string set).
const flagItem = (flag: FlagRecord): Item => ({
  ...key.flag(flag.name),
  name: flag.name,
  enabled: flag.enabled,
  tenants: [...flag.tenants],
  percent: flag.percent,
  updatedAt: flag.updatedAt,
});

const toFlag = (item: Item): FlagRecord => ({
  name: item.name as string,
  enabled: item.enabled as boolean,
  tenants: [...((item.tenants as string[] | undefined) ?? [])],
  percent: item.percent as number,
  updatedAt: item.updatedAt as string,
});

/**
 * Bind the participant and flag methods to `ctx`. A participant is an item in its conversation's partition,
 * so a key built for one tenant never reaches another's; flags share one partition.
 */
export function participantMethods(ctx: DynamoContext, chains: AuditChains): ParticipantMethods {
  const table = ctx.table;

  // Read under the chain's lease: the state read is the state committed (the put's condition is the backstop).
  const planAdd = async (tenantId: TenantId, id: ConversationId, participant: ParticipantRecord) => {
    const [conversation, existing] = await Promise.all([
      getItem(ctx, 'addParticipant', key.conversation(tenantId, id), ['subject']),
      getItem(ctx, 'addParticipant', key.participant(tenantId, id, participant.subject), ['subject']),
    ]);
    if (conversation === undefined) return { outcome: { found: false, added: false }, writes: [] };
    // The owner takes part already; it is never stored as a participant.
    if (conversation.subject === participant.subject || existing !== undefined) {
      return { outcome: { found: true, added: false }, writes: [] };
    }
    const action = putAction(table, participantItem(tenantId, id, participant), absent);
    return { outcome: { found: true, added: true }, writes: [{ action }] } satisfies Plan<AddResult>;
  };

  return {
    async addParticipant(
      tenantId: TenantId,
      conversationId: ConversationId,
      participant: ParticipantRecord,
      audit: AuditBatch<boolean>,
    ): Promise<boolean> {
      checkParticipant('addParticipant', participant);
      const { outcome } = await chains.audited(
        'addParticipant',
        tenantId,
        addAudit(audit),
        (): Promise<Plan<AddResult>> => planAdd(tenantId, conversationId, participant),
      );
      return addAnswer(conversationId, outcome);
    },

    async removeParticipant(
      tenantId: TenantId,
      conversationId: ConversationId,
      subject: string,
      audit: AuditBatch<boolean>,
    ): Promise<boolean> {
      const itemKey = key.participant(tenantId, conversationId, subject);
      const { outcome } = await chains.audited(
        'removeParticipant',
        tenantId,
        audit,
        async (): Promise<Plan<boolean>> => {
          const existing = await getItem(ctx, 'removeParticipant', itemKey, ['subject']);
          if (existing === undefined) return { outcome: false, writes: [] };
          return { outcome: true, writes: [{ action: deleteAction(table, itemKey, present) }] };
        },
      );
      return outcome;
    },

    async listParticipants(tenantId: TenantId, conversationId: ConversationId): Promise<ParticipantRecord[]> {
      const items = await queryItems(ctx, 'listParticipants', {
        pk: partition.conversation(tenantId, conversationId),
        sk: { op: 'begins_with', value: PARTICIPANT_PREFIX },
        attrs: PARTICIPANT_ATTRS,
      });
      return items.map(toParticipant).sort(byAddedAt);
    },

    async isParticipant(tenantId: TenantId, conversationId: ConversationId, subject: string): Promise<boolean> {
      const item = await getItem(ctx, 'isParticipant', key.participant(tenantId, conversationId, subject), ['SK']);
      return item !== undefined;
    },

    async listFlags(): Promise<FlagRecord[]> {
      const items = await queryItems(ctx, 'listFlags', { pk: partition.flags, attrs: FLAG_ATTRS });
      return items.map(toFlag);
    },

    async putFlag(flag: FlagRecord, audit: AuditBatch<void>): Promise<void> {
      checkFlag(flag);
      await chains.audited('putFlag', SYSTEM_CHAIN, audit, async () => ({
        outcome: undefined,
        writes: [{ action: putAction(table, flagItem(flag)) }],
      }));
    },
  };
}
