import { randomBytes } from 'node:crypto';
import type { ConversationId, TenantId } from '../core/types.ts';
import { compareEventIds, type EventId, parseEventId } from '../streaming/event-id.ts';
import type { ReplayStore, StoredEvent } from '../streaming/replay-store.ts';
import type { EventBus } from './event-bus.ts';

/** A random id for this process's node, carried by the bus messages it publishes. */
export function newSyncNodeId(): string {
  return `node_${randomBytes(6).toString('hex')}`;
}

/** Options of {@link createSyncedReplayStore}. */
export interface SyncedReplayStoreOptions {
  bus: EventBus;
  /** This node's id ({@link newSyncNodeId}). */
  node: string;
  /**
   * Told when the store turned out to hold events of a conversation that
   * this node had not seen (stored by another node): wake its followers.
   */
  onForeignEvents?: (tenantId: TenantId, conversationId: ConversationId) => void;
  /**
   * Longest wait, before storing an event of turn N, for the events of turn
   * N-1 (stored by another node) to become visible. Default 1 000 ms.
   */
  orderWaitMs?: number;
  /** Conversations whose newest known id this node keeps (LRU). Default 10 000. */
  maxConversations?: number;
  /** Told of publishes the bus refused (e.g. after it closed). */
  onError?: (error: unknown) => void;
  sleep?: (ms: number) => Promise<void>;
}

const BACKOFF_MS = [1, 2, 5, 10, 20, 50, 100, 200];
const keyOf = (tenantId: string, conversationId: string) => `${tenantId}\u0000${conversationId}`;
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The synced store: a ReplayStore that also takes the bus's notices of events stored elsewhere. */
export interface SyncedReplayStore extends ReplayStore {
  /**
   * The bus announced `eventId`, stored by another node, and this node's
   * followers of the conversation are being woken for it: a read that finds
   * it need not wake them again.
   */
  noticed(tenantId: TenantId, conversationId: ConversationId, eventId: EventId): void;
}

/**
 * The event log's store as every node shares it (ADR-006). Two things on
 * top of the ReplayStore it wraps:
 *
 * - After each stored event it publishes a `stream.appended` notice on the
 *   EventBus (ids and names only, never data), so followers on other nodes
 *   re-read the store and see it.
 * - Events become visible in id order across nodes. Ids start with the turn
 *   number, and the node that commits turn N stores its events; two nodes
 *   committing turns N-1 and N a moment apart could otherwise store N before
 *   N-1, and a follower that had read N would never be shown N-1. So before
 *   storing an event of turn N, this waits (bounded by `orderWaitMs`) until
 *   an event of turn N-1 or later is visible; turn N is only committed after
 *   N-1, whose node stores its event right after its commit. When that wait
 *   finds events this node had not seen, `onForeignEvents` wakes this node's
 *   followers first, so they read N-1 from the store before N reaches them.
 */
export function createSyncedReplayStore(inner: ReplayStore, options: SyncedReplayStoreOptions): SyncedReplayStore {
  const orderWaitMs = options.orderWaitMs ?? 1_000;
  const maxConversations = options.maxConversations ?? 10_000;
  if (!(orderWaitMs >= 0)) throw new TypeError('createSyncedReplayStore: orderWaitMs must be >= 0');
  const sleep = options.sleep ?? defaultSleep;
  /** The newest id this node knows to be stored, per conversation. */
  const known = new Map<string, EventId>();
  /** Reads asked for in this turn of the event loop and not yet sent, by conversation, resume id and limit. */
  const pending = new Map<string, Promise<StoredEvent[]>>();

  const remember = (key: string, id: EventId | null | undefined): boolean => {
    if (id === null || id === undefined) return false;
    const current = known.get(key);
    if (current !== undefined && compareEventIds(id, current) <= 0) return false;
    known.delete(key);
    known.set(key, id);
    if (known.size > maxConversations) known.delete(known.keys().next().value as string);
    return true;
  };

  const waitForTurn = async (tenantId: TenantId, conversationId: ConversationId, key: string, turn: number) => {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      const lastId = await inner.lastId(tenantId, conversationId);
      if (remember(key, lastId)) options.onForeignEvents?.(tenantId, conversationId);
      if (lastId !== null && (parseEventId(lastId)?.turn ?? 0) >= turn) return;
      const left = orderWaitMs - (Date.now() - started);
      if (left <= 0) return;
      await sleep(Math.min(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!, left));
    }
  };

  return {
    async append(tenantId, conversationId, event) {
      const key = keyOf(tenantId, conversationId);
      const turn = parseEventId(event.id)?.turn ?? 0;
      const last = known.get(key);
      if (turn >= 2 && (last === undefined || (parseEventId(last)?.turn ?? 0) < turn - 1)) {
        await waitForTurn(tenantId, conversationId, key, turn - 1);
      }
      await inner.append(tenantId, conversationId, event);
      remember(key, event.id);
      options.bus
        .publish({
          type: 'stream.appended',
          tenantId,
          conversationId,
          eventId: event.id,
          event: event.event,
          node: options.node,
        })
        .catch((error: unknown) => options.onError?.(error));
    },
    // Followers woken together (an event stored elsewhere) ask for the same page at once: they share one
    // query, sent once this turn of the event loop is over. Only a query not yet sent is joined, so every
    // caller's read starts after its call, as a subscription's replay-then-live handover needs.
    // A read that finds events this node had not known of wakes every follower here: one of them may be
    // waiting live, and the next local event must not reach it before it has read these.
    async after(tenantId, conversationId, afterId, limit) {
      const conversation = keyOf(tenantId, conversationId);
      const key = `${conversation}\u0000${afterId ?? ''}\u0000${limit}`;
      let read = pending.get(key);
      if (read === undefined) {
        read = new Promise((resolve) => setImmediate(resolve)).then(async () => {
          pending.delete(key);
          const page = await inner.after(tenantId, conversationId, afterId, limit);
          if (remember(conversation, page.at(-1)?.id)) options.onForeignEvents?.(tenantId, conversationId);
          return page;
        });
        pending.set(key, read);
      }
      return (await read).slice();
    },
    async lastId(tenantId, conversationId) {
      const lastId = await inner.lastId(tenantId, conversationId);
      if (remember(keyOf(tenantId, conversationId), lastId)) options.onForeignEvents?.(tenantId, conversationId);
      return lastId;
    },
    prune: (tenantId, conversationId, keepLast) => inner.prune(tenantId, conversationId, keepLast),
    noticed(tenantId, conversationId, eventId) {
      remember(keyOf(tenantId, conversationId), eventId);
    },
  };
}
