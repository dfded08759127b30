import type { AuditEvent } from '../../../audit/event.ts';
import type { TenantId } from '../../../core/types.ts';
import { AppError } from '../../../errors/index.ts';
import type { ApiKeyRecord, AuditHead, ConversationRecord, Store, TenantRecord, TurnRecord } from '../../port.ts';
import { checkConversation, firstBreak } from '../records.ts';
import type { SqliteConnection } from './connection.ts';
import { toApiKey, toTenant } from './mapping.ts';

/** The store methods behind `continuum export` and `continuum import`. */
export type TransferMethods = Pick<
  Store,
  'listTenants' | 'listApiKeys' | 'importTenant' | 'importConversation' | 'importAuditEvents'
>;

/** Bind the export/import methods to `conn`. */
export function transferMethods(conn: SqliteConnection): TransferMethods {
  return {
    async listTenants(): Promise<TenantRecord[]> {
      const rows = conn.read('listTenants', () => conn.queries.listTenants.all());
      return rows.map((row) => toTenant(row as never));
    },

    async listApiKeys(tenantId: TenantId): Promise<ApiKeyRecord[]> {
      const rows = conn.read('listApiKeys', () => conn.queries.listApiKeys.all(tenantId));
      return rows.map((row) => toApiKey(row as never));
    },

    async importTenant(tenant: TenantRecord, apiKeys: ApiKeyRecord[]): Promise<void> {
      for (const key of apiKeys) {
        if (key.tenantId !== tenant.id) {
          throw new TypeError(`importTenant: API key ${key.id} belongs to ${key.tenantId}, not ${tenant.id}`);
        }
      }
      await conn.write('importTenant', () => {
        const q = conn.queries;
        if (q.getTenant.get(tenant.id) || q.getTenantByName.get(tenant.name)) {
          throw new AppError('tenant_exists', `A tenant with the id or name of ${tenant.id} already exists`);
        }
        // Key hashes are unique across tenants here: a taken one is the same export imported under another name.
        if (apiKeys.some((key) => q.findApiKeyByHash.get(key.hash))) {
          throw new AppError('tenant_exists', `An API key of ${tenant.id} is already stored`);
        }
        q.insertTenant.run(tenant.id, tenant.name, tenant.createdAt);
        for (const key of apiKeys) q.insertApiKey.run(key.tenantId, key.id, key.hash, key.createdAt, key.revokedAt);
      });
    },

    async importConversation(tenantId: TenantId, conversation: ConversationRecord, turns: TurnRecord[]): Promise<void> {
      checkConversation(tenantId, conversation, turns);
      await conn.write('importConversation', () => {
        const q = conn.queries;
        if (q.getConversationAnyTenant.get(conversation.id)) {
          throw new AppError('conversation_conflict', `Conversation ${conversation.id} already exists`);
        }
        q.importConversation.run({
          id: conversation.id,
          tenant_id: tenantId,
          subject: conversation.subject,
          title: conversation.title,
          metadata: conversation.metadata === null ? null : JSON.stringify(conversation.metadata),
          client_key: conversation.clientKey,
          started_at: conversation.startedAt,
          created_at: conversation.createdAt,
          genesis_hash: conversation.genesisHash,
          turn: conversation.turn,
          head_hash: conversation.headHash,
          status: conversation.status,
          closed_at: conversation.closedAt,
        });
        for (const turn of turns) {
          q.insertTurn.run(
            conversation.id,
            turn.number,
            tenantId,
            turn.role,
            turn.content,
            turn.createdAt,
            turn.prevHash,
            turn.hash,
          );
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
      await conn.write('importAuditEvents', () => {
        const head = (conn.auditQueries.head.get(tenantId) as AuditHead | undefined) ?? null;
        const broken = firstBreak(head, events);
        if (broken !== null)
          throw new AppError('turn_conflict', `The audit events do not continue the chain: ${broken}`);
        for (const event of events) {
          conn.auditQueries.insert.run(
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
        }
      });
    },
  };
}
