import type { ConversationId, TenantId } from '../core/types.ts';
import type { EventId } from './event-id.ts';

/** One event of a conversation's stream, as stored and as replayed. */
export interface StoredEvent {
  /** See `event-id.ts`: `<turn>.<seq>`, increasing within the conversation. */
  id: EventId;
  /** SSE event type: `turn`, `delta`, `done`, `error`, `context`, ... */
  event: string;
  /** The SSE data, already serialized (JSON text). Stores seal it at rest: it can carry message text. */
  data: string;
}

/**
 * The ReplayStore port: the durable, per-conversation replay buffer behind
 * `Last-Event-ID` resume, shared by every node so a client can resume on
 * another node. The tenant is the first argument of every call; an adapter
 * must never return another tenant's or conversation's events.
 *
 * Ids are fixed-width text whose string order is their order, so an adapter
 * keys rows by `(tenant_id, conversation_id, event_id)` and sorts by
 * `event_id` as text (BINARY collation in SQLite, `COLLATE "C"` in PostgreSQL).
 *
 * Every adapter passes `describeReplayStore` in
 * `test/streaming/replay-store-conformance.ts`.
 */
export interface ReplayStore {
  /**
   * Stores one event. Resolves once it is durable, because live subscribers
   * are told of it only afterwards. Rejects, writing nothing, when the
   * conversation already has an event with this id (never overwrites).
   */
  append(tenantId: TenantId, conversationId: ConversationId, event: StoredEvent): Promise<void>;
  /**
   * Up to `limit` events with an id greater than `afterId` (all events when
   * `null`), oldest first.
   */
  after(
    tenantId: TenantId,
    conversationId: ConversationId,
    afterId: EventId | null,
    limit: number,
  ): Promise<StoredEvent[]>;
  /** The greatest stored id of the conversation, or `null` when it has none. */
  lastId(tenantId: TenantId, conversationId: ConversationId): Promise<EventId | null>;
  /**
   * Retention: deletes all but the newest `keepLast` events of the
   * conversation (always an oldest-first prefix, so what remains has no
   * holes). `keepLast` is at least 1.
   */
  prune(tenantId: TenantId, conversationId: ConversationId, keepLast: number): Promise<void>;
}
