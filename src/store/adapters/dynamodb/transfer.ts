import type { AuditEvent } from '../../../audit/event.ts';
import type { TenantId } from '../../../core/types.ts';
import { AppError } from '../../../errors/index.ts';
import { storeUnavailable } from '../../errors.ts';
import type { ApiKeyRecord, ConversationRecord, Store, TenantRecord, TurnRecord } from '../../port.ts';
import { checkConversation, firstBreak } from '../records.ts';
import type { AuditChains, Write } from './audit-chain.ts';
import { type DynamoContext, jitter } from './client.ts';
import { nextConversationSeq } from './conversations.ts';
import { tenantWrites } from './credentials.ts';
import { key, partition } from './keys.ts';
import { API_KEY_ATTRS, conversationItem, TENANT_ATTRS, toApiKey, toTenant, turnItem } from './mapping.ts';
import {
  absent,
  batchWriteItems,
  getItem,
  MAX_TRANSACTION_ITEMS,
  putAction,
  queryItems,
  transactWrite,
} from './requests.ts';

/** The store methods behind `continuum export` and `continuum import`. */
export type TransferMethods = Pick<
  Store,
  'listTenants' | 'listApiKeys' | 'importTenant' | 'importConversation' | 'importAuditEvents'
>;

/** Room left in a transaction of audit events for the head and the chain registry. */
const EVENTS_PER_TRANSACTION = MAX_TRANSACTION_ITEMS - 2;

const byCreation = <T extends { createdAt: string; id: string }>(a: T, b: T): number =>
  a.createdAt === b.createdAt ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.createdAt < b.createdAt ? -1 : 1;

/** Commit `writes` in one transaction outside any audit chain; a failed condition throws its write's conflict. */
async function commitWrites(ctx: DynamoContext, operation: string, writes: Write[]): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const result = await transactWrite(
      ctx,
      operation,
      writes.map((write) => write.action),
    );
    if (result.ok) return;
    for (const index of result.failed) {
      const conflict = writes[index]?.conflict;
      throw conflict === undefined ? storeUnavailable(operation, new Error(`write ${index} was refused`)) : conflict();
    }
    await jitter(10 * 2 ** attempt);
  }
  throw storeUnavailable(operation, new Error('still contended after 5 attempts'));
}

/** Bind the export/import methods to `ctx`. */
export function transferMethods(ctx: DynamoContext, chains: AuditChains): TransferMethods {
  const table = ctx.table;
  return {
    async listTenants(): Promise<TenantRecord[]> {
      const items = await queryItems(ctx, 'listTenants', { pk: partition.tenants, attrs: TENANT_ATTRS });
      return items.map(toTenant).sort(byCreation);
    },

    async listApiKeys(tenantId: TenantId): Promise<ApiKeyRecord[]> {
      const items = await queryItems(ctx, 'listApiKeys', { pk: partition.apiKeys(tenantId), attrs: API_KEY_ATTRS });
      return items.map(toApiKey).sort(byCreation);
    },

    async importTenant(tenant: TenantRecord, apiKeys: ApiKeyRecord[]): Promise<void> {
      for (const apiKey of apiKeys) {
        if (apiKey.tenantId !== tenant.id) {
          throw new TypeError(`importTenant: API key ${apiKey.id} belongs to ${apiKey.tenantId}, not ${tenant.id}`);
        }
      }
      const writes = tenantWrites(table, tenant, apiKeys);
      if (writes.length <= MAX_TRANSACTION_ITEMS) return commitWrites(ctx, 'importTenant', writes);
      // Too many keys for one transaction: the keys go first, the tenant (what makes them reachable) last.
      const [name, record, ...keyWrites] = writes;
      const taken = await Promise.all([
        getItem(ctx, 'importTenant', key.tenantName(tenant.name), ['tenantId']),
        getItem(ctx, 'importTenant', key.tenant(tenant.id), ['id']),
      ]);
      if (taken.some((item) => item !== undefined)) {
        throw new AppError('tenant_exists', `A tenant with the id or name of ${tenant.id} already exists`);
      }
      for (let start = 0; start < keyWrites.length; start += MAX_TRANSACTION_ITEMS) {
        await commitWrites(ctx, 'importTenant', keyWrites.slice(start, start + MAX_TRANSACTION_ITEMS));
      }
      await commitWrites(ctx, 'importTenant', [name!, record!]);
    },

    async importConversation(tenantId: TenantId, conversation: ConversationRecord, turns: TurnRecord[]): Promise<void> {
      checkConversation(tenantId, conversation, turns);
      const conflict = () => new AppError('conversation_conflict', `Conversation ${conversation.id} already exists`);
      if (
        (await getItem(ctx, 'importConversation', key.conversationClaim(conversation.id), ['tenantId'])) !== undefined
      ) {
        throw conflict();
      }
      // Turns first, in batches; the conversation (and its claim and list entries) last, so it is
      // visible only once complete. Until then its turns are unreachable: no conversation points at them.
      await batchWriteItems(
        ctx,
        'importConversation',
        turns.map((turn) => ({ PutRequest: { Item: turnItem(tenantId, turn) } })),
      );
      const seq = await nextConversationSeq(ctx, 'importConversation', tenantId);
      await commitWrites(ctx, 'importConversation', [
        { action: putAction(table, { ...key.conversationClaim(conversation.id), tenantId }, absent), conflict },
        { action: putAction(table, conversationItem(conversation, seq), absent), conflict },
        { action: putAction(table, { ...key.conversationIndex(tenantId, seq), id: conversation.id }) },
        { action: putAction(table, { ...key.subjectIndex(tenantId, conversation.subject, seq), id: conversation.id }) },
      ]);
    },

    async importAuditEvents(tenantId: TenantId, events: AuditEvent[]): Promise<void> {
      for (const event of events) {
        if (event.tenantId !== tenantId) {
          throw new TypeError(`importAuditEvents: event ${event.seq} belongs to ${event.tenantId}, not ${tenantId}`);
        }
      }
      if (events.length === 0) return;
      await chains.exclusive('importAuditEvents', tenantId, async (session) => {
        const broken = firstBreak(await session.head(), events);
        if (broken !== null)
          throw new AppError('turn_conflict', `The audit events do not continue the chain: ${broken}`);
        // More events than one transaction holds go in several, each continuing the head the last one wrote.
        for (let start = 0; start < events.length; start += EVENTS_PER_TRANSACTION) {
          const chunk = events.slice(start, start + EVENTS_PER_TRANSACTION);
          const head = await session.head();
          const result = firstBreak(head, chunk) === null ? await session.commit([], chunk) : null;
          if (result === null || !result.ok) {
            throw new AppError('turn_conflict', `The audit chain of ${tenantId} moved while its events were imported`);
          }
        }
      });
    },
  };
}
