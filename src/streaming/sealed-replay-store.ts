import type { ConversationId, TenantId } from '../core/types.ts';
import type { TenantCipher } from '../crypto/data-keys.ts';
import type { Store } from '../store/port.ts';
import type { ReplayStore, StoredEvent } from './replay-store.ts';

/**
 * The ReplayStore over any Store: event data (it carries message text) is
 * sealed under the tenant's data key and bound to its conversation and event
 * id (ADR-008), so the replay buffer holds no plaintext.
 */
export function createSealedReplayStore(store: Store, cipher: TenantCipher): ReplayStore {
  const ctx = (tenantId: TenantId, conversationId: ConversationId, id: string) => ({
    tenantId,
    conversationId,
    field: `stream-event:${id}`,
  });
  return {
    async append(tenantId, conversationId, event: StoredEvent) {
      await cipher.ensureLoaded(tenantId);
      const data = cipher.sealSync(ctx(tenantId, conversationId, event.id), event.data);
      await store.appendStreamEvent(tenantId, conversationId, { id: event.id, event: event.event, data });
    },
    async after(tenantId, conversationId, afterId, limit) {
      const rows = await store.listStreamEvents(tenantId, conversationId, afterId, limit);
      if (rows.length === 0) return [];
      await cipher.ensureLoaded(tenantId);
      return rows.map((row) => ({
        id: row.id,
        event: row.event,
        data: cipher.openSync(ctx(tenantId, conversationId, row.id), Buffer.from(row.data)),
      }));
    },
    lastId: (tenantId, conversationId) => store.lastStreamEventId(tenantId, conversationId),
    prune: (tenantId, conversationId, keepLast) => store.pruneStreamEvents(tenantId, conversationId, keepLast),
  };
}
