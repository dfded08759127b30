import type { ConversationId, TenantId } from '../../../core/types.ts';
import type { Store, StreamEventRecord } from '../../port.ts';
import type { SqliteConnection } from './connection.ts';

/** The store methods over the SSE replay buffer. */
export type StreamMethods = Pick<
  Store,
  'appendStreamEvent' | 'listStreamEvents' | 'lastStreamEventId' | 'pruneStreamEvents'
>;

/** Bind the replay-buffer methods to `conn`. */
export function streamMethods(conn: SqliteConnection): StreamMethods {
  const q = () => conn.queries;
  return {
    async appendStreamEvent(tenantId: TenantId, conversationId: ConversationId, event: StreamEventRecord) {
      await conn.write('appendStreamEvent', () =>
        q().insertStreamEvent.run(conversationId, event.id, tenantId, event.event, event.data),
      );
    },
    async listStreamEvents(tenantId: TenantId, conversationId: ConversationId, afterId: string | null, limit: number) {
      const rows = conn.read('listStreamEvents', () =>
        q().listStreamEvents.all(tenantId, conversationId, afterId ?? '', limit),
      ) as { event_id: string; event: string; data: Buffer }[];
      return rows.map((row) => ({ id: row.event_id, event: row.event, data: row.data }));
    },
    async lastStreamEventId(tenantId: TenantId, conversationId: ConversationId) {
      const row = conn.read('lastStreamEventId', () => q().lastStreamEventId.get(tenantId, conversationId)) as
        | { event_id: string }
        | undefined;
      return row?.event_id ?? null;
    },
    async pruneStreamEvents(tenantId: TenantId, conversationId: ConversationId, keepLast: number) {
      if (!Number.isInteger(keepLast) || keepLast < 1) throw new TypeError('pruneStreamEvents: keepLast must be >= 1');
      await conn.write('pruneStreamEvents', () =>
        q().pruneStreamEvents.run(tenantId, conversationId, tenantId, conversationId, keepLast - 1),
      );
    },
  };
}
