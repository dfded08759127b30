import type { ConversationId, TenantId } from '../core/types.ts';
import { type EventId, formatEventId, isEventId, parseEventId } from './event-id.ts';
import type { ReplayStore, StoredEvent } from './replay-store.ts';
import { type EventSubscription, LiveSubscription } from './subscription.ts';
import { systemTimers, type Timers } from './timers.ts';

/** Options of {@link EventLog}. */
export interface EventLogOptions {
  store: ReplayStore;
  /**
   * Retention: the newest events kept per conversation. Pruning runs in the
   * background every `ceil(retainEvents / 10)` appends on this node, so a
   * conversation holds at most about 10% more. Default 5 000.
   */
  retainEvents?: number;
  /** Events read from the store per replay query. Default 256. */
  pageSize?: number;
  /** Live events buffered per subscriber before it falls back to reading the store. Default 1 024. */
  maxQueuedPerSubscriber?: number;
  /**
   * While idle, a subscriber re-reads the store this often, to pick up events
   * appended on other nodes. `0` (default) turns polling off; call
   * {@link EventLog.wake} from the EventBus instead, or both.
   */
  pollIntervalMs?: number;
  /** Conversations whose next id this node keeps in memory (LRU); others are re-read from the store. Default 10 000. */
  maxCachedConversations?: number;
  timers?: Timers;
  /** Receives background failures (pruning). Default: ignored. */
  onError?: (error: unknown) => void;
}

/** What {@link EventLog.append} needs; the log assigns the id. */
export interface AppendEventInput {
  /**
   * The turn this event belongs to (the user turn for `turn`, the reply's
   * number for `delta` and `done`). Omitted, or lower than the conversation's
   * latest turn, it stays in the latest turn: ids never go backwards.
   */
  turn?: number;
  event: string;
  data: string;
}

/** Options of {@link EventLog.subscribe}. */
export interface SubscribeOptions {
  /** Ends the subscription when aborted (e.g. the client disconnected). */
  signal?: AbortSignal;
  /**
   * Called once, before any event, when the resume id is older than the
   * oldest retained event: some events the client missed are gone and
   * replay starts at `oldestId`. Not called when omitted.
   */
  onTruncated?: (oldestId: EventId) => void;
}

interface ConversationCursor {
  /** The last id this node assigned, or `undefined` until read from the store. */
  last: { turn: number; seq: number } | null | undefined;
  tail: Promise<unknown>;
  pending: number;
  sincePrune: number;
}

const noop = () => {};
const keyOf = (tenantId: TenantId, conversationId: ConversationId) => `${tenantId}\u0000${conversationId}`;

/**
 * The per-conversation event log behind resumable SSE (ADR-005): assigns
 * event ids, stores each event in the {@link ReplayStore} before anyone sees
 * it, fans it out to this node's live subscribers, and replays from the store
 * for clients that resume with `Last-Event-ID`.
 *
 * Appends to one conversation are serialized on this node. Ids are unique
 * across nodes as long as the events of a turn are appended by one node (the
 * node that committed the turn or is generating its reply); the store refuses
 * a duplicate id rather than overwrite.
 *
 * @example
 * const log = new EventLog({ store });
 * await log.append(tenantId, conversationId, { turn: 8, event: 'turn', data: JSON.stringify(turn) });
 * for await (const event of log.subscribe(tenantId, conversationId, lastEventId, { signal })) {
 *   write(formatEvent(event));
 * }
 */
export class EventLog {
  readonly #store: ReplayStore;
  readonly #retain: number;
  readonly #pruneEvery: number;
  readonly #pageSize: number;
  readonly #maxQueued: number;
  readonly #pollIntervalMs: number;
  readonly #maxCached: number;
  readonly #timers: Timers;
  readonly #onError: (error: unknown) => void;
  readonly #cursors = new Map<string, ConversationCursor>();
  readonly #subscribers = new Map<string, Set<LiveSubscription>>();

  constructor(options: EventLogOptions) {
    const positive = (name: string, value: number) => {
      if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`EventLog ${name} must be a positive integer`);
      return value;
    };
    this.#store = options.store;
    this.#retain = positive('retainEvents', options.retainEvents ?? 5_000);
    this.#pruneEvery = Math.ceil(this.#retain / 10);
    this.#pageSize = positive('pageSize', options.pageSize ?? 256);
    this.#maxQueued = positive('maxQueuedPerSubscriber', options.maxQueuedPerSubscriber ?? 1_024);
    this.#maxCached = positive('maxCachedConversations', options.maxCachedConversations ?? 10_000);
    this.#pollIntervalMs = options.pollIntervalMs ?? 0;
    if (!Number.isFinite(this.#pollIntervalMs) || this.#pollIntervalMs < 0) {
      throw new TypeError('EventLog pollIntervalMs must be >= 0');
    }
    this.#timers = options.timers ?? systemTimers;
    this.#onError = options.onError ?? noop;
  }

  /**
   * Assigns the next id, stores the event, then hands it to live subscribers.
   * Resolves with the stored event; rejects when the store does (the id is
   * then skipped, never reused).
   *
   * @throws TypeError (synchronously) for an event name with a line break or a bad turn.
   */
  append(tenantId: TenantId, conversationId: ConversationId, input: AppendEventInput): Promise<StoredEvent> {
    if (typeof input.event !== 'string' || input.event === '' || /[\r\n]/.test(input.event)) {
      throw new TypeError('an event name must be a non-empty string without line breaks');
    }
    if (input.turn !== undefined && (!Number.isSafeInteger(input.turn) || input.turn < 0)) {
      throw new TypeError('an event turn must be a non-negative integer');
    }
    const key = keyOf(tenantId, conversationId);
    const cursor = this.#cursors.get(key) ?? { last: undefined, tail: Promise.resolve(), pending: 0, sincePrune: 0 };
    this.#cursors.delete(key);
    this.#cursors.set(key, cursor);
    cursor.pending += 1;
    const run = cursor.tail.then(() => this.#appendNow(tenantId, conversationId, key, cursor, input));
    const settle = () => {
      cursor.pending -= 1;
      this.#evictIdle();
    };
    cursor.tail = run.then(settle, settle);
    return run;
  }

  /**
   * Every event after `afterId` (from the oldest retained when `null`), then
   * live events as they are appended, in id order, each exactly once.
   * Registers at once, so nothing appended after this call is missed even
   * before the first `next()`.
   *
   * @throws TypeError when `afterId` is not an event id (parse client input with `parseLastEventId`).
   */
  subscribe(
    tenantId: TenantId,
    conversationId: ConversationId,
    afterId: EventId | null,
    options: SubscribeOptions = {},
  ): EventSubscription {
    if (afterId !== null && !isEventId(afterId)) throw new TypeError('afterId must be an event id or null');
    const key = keyOf(tenantId, conversationId);
    const subscription = new LiveSubscription(
      {
        store: this.#store,
        tenantId,
        conversationId,
        pageSize: this.#pageSize,
        maxQueued: this.#maxQueued,
        pollIntervalMs: this.#pollIntervalMs,
        timers: this.#timers,
        signal: options.signal,
        onTruncated: options.onTruncated,
        onClose: (closed) => {
          const set = this.#subscribers.get(key);
          set?.delete(closed);
          if (set?.size === 0) this.#subscribers.delete(key);
        },
      },
      afterId,
    );
    if (subscription.closed) return subscription;
    let set = this.#subscribers.get(key);
    if (!set) {
      set = new Set();
      this.#subscribers.set(key, set);
    }
    set.add(subscription);
    return subscription;
  }

  /**
   * Tells this node's subscribers of a conversation that events were stored
   * elsewhere (another node); each re-reads the store. Call it from an
   * EventBus handler.
   */
  wake(tenantId: TenantId, conversationId: ConversationId): void {
    for (const subscription of this.#subscribers.get(keyOf(tenantId, conversationId)) ?? []) subscription.wake();
  }

  /** Live subscribers of a conversation on this node. */
  subscriberCount(tenantId: TenantId, conversationId: ConversationId): number {
    return this.#subscribers.get(keyOf(tenantId, conversationId))?.size ?? 0;
  }

  async #appendNow(
    tenantId: TenantId,
    conversationId: ConversationId,
    key: string,
    cursor: ConversationCursor,
    input: AppendEventInput,
  ): Promise<StoredEvent> {
    if (cursor.last === undefined) {
      const lastId = await this.#store.lastId(tenantId, conversationId);
      cursor.last = lastId === null ? null : parseEventId(lastId);
    }
    const last = cursor.last;
    const turn = input.turn ?? last?.turn ?? 0;
    const next = last === null || turn > last.turn ? { turn, seq: 0 } : { turn: last.turn, seq: last.seq + 1 };
    const event: StoredEvent = { id: formatEventId(next.turn, next.seq), event: input.event, data: input.data };
    // Taken before the write: a failed write may still have landed, so its id is never handed out again.
    cursor.last = next;
    await this.#store.append(tenantId, conversationId, event);
    for (const subscription of this.#subscribers.get(key) ?? []) subscription.deliver(event);
    cursor.sincePrune += 1;
    if (cursor.sincePrune >= this.#pruneEvery) {
      cursor.sincePrune = 0;
      this.#store.prune(tenantId, conversationId, this.#retain).catch(this.#onError);
    }
    return event;
  }

  #evictIdle(): void {
    if (this.#cursors.size <= this.#maxCached) return;
    for (const [key, cursor] of this.#cursors) {
      if (this.#cursors.size <= this.#maxCached) return;
      if (cursor.pending === 0) this.#cursors.delete(key);
    }
  }
}
