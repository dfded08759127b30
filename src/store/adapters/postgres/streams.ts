import type { ConversationId, TenantId } from '../../../core/types.ts';
import type { Store, StreamEventRecord } from '../../port.ts';
import type { PgConnection } from './pool.ts';

/** The store methods over the SSE replay buffer. */
export type StreamMethods = Pick<
  Store,
  'appendStreamEvent' | 'listStreamEvents' | 'lastStreamEventId' | 'pruneStreamEvents'
>;

const LIST = `SELECT event_id, event, data FROM stream_events
  WHERE tenant_id = $1 AND conversation_id = $2 AND event_id > $3 ORDER BY event_id LIMIT $4`;
const LAST = `SELECT event_id FROM stream_events
  WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY event_id DESC LIMIT 1`;
// Everything older than the keepLast-th newest event (nothing when there are fewer).
const PRUNE = `DELETE FROM stream_events WHERE tenant_id = $1 AND conversation_id = $2 AND event_id < (
    SELECT event_id FROM stream_events WHERE tenant_id = $1 AND conversation_id = $2
    ORDER BY event_id DESC LIMIT 1 OFFSET $3
  )`;

/** Bind the replay-buffer methods to `conn`. */
export function streamMethods(conn: PgConnection): StreamMethods {
  return {
    // Not retried once the insert may have been applied: a repeat would be refused as a duplicate.
    async appendStreamEvent(tenantId: TenantId, conversationId: ConversationId, event: StreamEventRecord) {
      await conn.run(
        'appendStreamEvent',
        'INSERT INTO stream_events (tenant_id, conversation_id, event_id, event, data) VALUES ($1, $2, $3, $4, $5)',
        [tenantId, conversationId, event.id, event.event, event.data],
      );
    },

    async listStreamEvents(tenantId: TenantId, conversationId: ConversationId, afterId: string | null, limit: number) {
      const { rows } = await conn.run<{ event_id: string; event: string; data: Buffer }>(
        'listStreamEvents',
        LIST,
        [tenantId, conversationId, afterId ?? '', limit],
        { idempotent: true },
      );
      return rows.map((row) => ({ id: row.event_id, event: row.event, data: row.data }));
    },

    async lastStreamEventId(tenantId: TenantId, conversationId: ConversationId) {
      const { rows } = await conn.run<{ event_id: string }>('lastStreamEventId', LAST, [tenantId, conversationId], {
        idempotent: true,
      });
      return rows[0]?.event_id ?? null;
    },

    async pruneStreamEvents(tenantId: TenantId, conversationId: ConversationId, keepLast: number) {
      if (!Number.isInteger(keepLast) || keepLast < 1) throw new TypeError('pruneStreamEvents: keepLast must be >= 1');
      await conn.run('pruneStreamEvents', PRUNE, [tenantId, conversationId, keepLast - 1], { idempotent: true });
    },
  };
}
