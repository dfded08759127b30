import type { ConversationId, TenantId } from '../core/types.ts';
import { compareEventIds, type EventId } from './event-id.ts';
import type { ReplayStore, StoredEvent } from './replay-store.ts';
import type { TimerHandle, Timers } from './timers.ts';

/**
 * A subscriber's view of a conversation's events: every event after the
 * resume point, in id order, each exactly once — first replayed from the
 * store, then live. Iterate it with `for await`; breaking out, `close()` or
 * the abort signal ends it. A store failure ends it by throwing from `next()`;
 * the client resumes with the last id it received.
 */
export interface EventSubscription extends AsyncIterableIterator<StoredEvent> {
  /** Ends the subscription; a pending `next()` resolves as done. */
  close(): void;
  readonly closed: boolean;
}

/** What a subscription needs from its EventLog. */
export interface SubscriptionContext {
  store: ReplayStore;
  tenantId: TenantId;
  conversationId: ConversationId;
  pageSize: number;
  maxQueued: number;
  pollIntervalMs: number;
  timers: Timers;
  signal?: AbortSignal;
  onTruncated?: (oldestId: EventId) => void;
  onClose: (subscription: LiveSubscription) => void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });
const noop = () => {};

/**
 * Replay-then-live without gaps or duplicates. The EventLog stores an event
 * before it fans it out, in id order, and registers a subscription before the
 * subscription first reads the store. So every event is either in a store
 * read or is delivered live after registration; live events that arrive while
 * replaying are held and released after the last store page, skipping ids at
 * or below the cursor. When the held list or the live queue overflows (a slow
 * reader), live events are dropped and the reader catches up from the store,
 * where they already are.
 */
export class LiveSubscription implements EventSubscription {
  readonly #ctx: SubscriptionContext;
  /** Id of the last event queued for delivery (or the resume point). */
  #cursor: EventId | null;
  #mode: 'replay' | 'live' = 'replay';
  /** Events ready for the reader, in id order, all greater than the previous cursor. */
  #queue: StoredEvent[] = [];
  /** Live events received while replaying. */
  #held: StoredEvent[] = [];
  /** Set when the in-flight store read may have missed something: read again before going live. */
  #dirty = false;
  #truncationChecked = false;
  #waiter: (() => void) | null = null;
  #pollTimer: TimerHandle | undefined;
  #closed = false;
  #tail: Promise<unknown> = Promise.resolve();
  readonly #onAbort = () => this.close();

  constructor(ctx: SubscriptionContext, afterId: EventId | null) {
    this.#ctx = ctx;
    this.#cursor = afterId;
    if (ctx.signal?.aborted) this.#closed = true;
    else ctx.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** An event appended through this node's EventLog, already stored, in id order. */
  deliver(event: StoredEvent): void {
    if (this.#closed) return;
    if (this.#mode === 'replay') {
      if (this.#held.length >= this.#ctx.maxQueued) {
        this.#held = [];
        this.#dirty = true;
      } else {
        this.#held.push(event);
      }
      return;
    }
    if (compareEventIds(event.id, this.#cursor) <= 0) return;
    if (this.#queue.length >= this.#ctx.maxQueued) {
      this.#mode = 'replay';
      this.#held = [];
    } else {
      this.#queue.push(event);
      this.#cursor = event.id;
    }
    this.#notify();
  }

  /** Events may have been stored by another node: read the store before waiting again. */
  wake(): void {
    if (this.#closed) return;
    if (this.#mode === 'live') {
      this.#mode = 'replay';
      this.#held = [];
    } else {
      this.#dirty = true;
    }
    this.#notify();
  }

  next(): Promise<IteratorResult<StoredEvent>> {
    const run = this.#tail.then(() => this.#next());
    this.#tail = run.then(noop, noop);
    return run;
  }

  return(): Promise<IteratorResult<StoredEvent>> {
    this.close();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#held = [];
    this.#ctx.signal?.removeEventListener('abort', this.#onAbort);
    this.#ctx.onClose(this);
    this.#notify();
  }

  async #next(): Promise<IteratorResult<StoredEvent>> {
    try {
      for (;;) {
        if (this.#closed) return DONE;
        const event = this.#queue.shift();
        if (event) return { value: event, done: false };
        if (this.#mode === 'replay') await this.#readPage();
        else await this.#wait();
      }
    } catch (error) {
      this.close();
      throw error;
    }
  }

  async #readPage(): Promise<void> {
    const { store, tenantId, conversationId, pageSize } = this.#ctx;
    this.#dirty = false;
    if (!this.#truncationChecked) {
      this.#truncationChecked = true;
      await this.#checkTruncation();
    }
    const page = await store.after(tenantId, conversationId, this.#cursor, pageSize);
    if (this.#closed) return;
    for (const event of page) this.#enqueue(event);
    if (page.length >= pageSize) {
      this.#held = this.#held.filter((event) => compareEventIds(event.id, this.#cursor) > 0);
      return;
    }
    if (this.#dirty) return;
    this.#mode = 'live';
    for (const event of this.#held) this.#enqueue(event);
    this.#held = [];
  }

  async #checkTruncation(): Promise<void> {
    const { store, tenantId, conversationId, onTruncated } = this.#ctx;
    if (this.#cursor === null || !onTruncated) return;
    // Retention prunes oldest-first, and the resume id was a stored event: if
    // it is older than the oldest kept event, it was pruned, and whatever
    // came right after it may have been too.
    const [oldest] = await store.after(tenantId, conversationId, null, 1);
    if (oldest && compareEventIds(this.#cursor, oldest.id) < 0 && !this.#closed) onTruncated(oldest.id);
  }

  #enqueue(event: StoredEvent): void {
    if (compareEventIds(event.id, this.#cursor) <= 0) return;
    this.#queue.push(event);
    this.#cursor = event.id;
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiter = resolve;
      const { pollIntervalMs, timers } = this.#ctx;
      if (pollIntervalMs > 0) {
        this.#pollTimer = timers.setTimeout(() => {
          this.#pollTimer = undefined;
          this.wake();
        }, pollIntervalMs);
      }
    });
  }

  #notify(): void {
    if (this.#pollTimer !== undefined) {
      this.#ctx.timers.clearTimeout(this.#pollTimer);
      this.#pollTimer = undefined;
    }
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }
}
