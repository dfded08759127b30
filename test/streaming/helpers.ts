import type { FakeClock } from '../../src/core/clock.ts';
import type { ConversationId, TenantId } from '../../src/core/types.ts';
import { compareEventIds, type EventId } from '../../src/streaming/event-id.ts';
import type { ReplayStore, StoredEvent } from '../../src/streaming/replay-store.ts';
import type { TimerHandle, Timers } from '../../src/streaming/timers.ts';

/** Timers that fire only when the test advances its FakeClock through them. */
export class ManualTimers implements Timers {
  readonly #clock: FakeClock;
  readonly #due = new Map<number, { at: number; callback: () => void }>();
  #nextId = 1;

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#due.set(id, { at: this.#clock.now() + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#due.delete(handle as number);
  }

  /** Timers not yet fired or cleared. */
  get pending(): number {
    return this.#due.size;
  }

  /** Moves the clock forward by `ms`, firing every timer that falls due, in time order (ties: creation order). */
  advance(ms: number): void {
    const target = this.#clock.now() + ms;
    for (;;) {
      let nextId: number | undefined;
      let nextAt = Number.POSITIVE_INFINITY;
      for (const [id, timer] of this.#due) {
        if (timer.at <= target && timer.at < nextAt) {
          nextId = id;
          nextAt = timer.at;
        }
      }
      if (nextId === undefined) break;
      const timer = this.#due.get(nextId)!;
      this.#due.delete(nextId);
      this.#clock.set(Math.max(this.#clock.now(), timer.at));
      timer.callback();
    }
    this.#clock.set(target);
  }
}

/** A deterministic pseudo-random generator (mulberry32) so race tests replay exactly per seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lets pending promise callbacks and I/O callbacks run. */
export const settle = (rounds = 3): Promise<void> =>
  (async () => {
    for (let i = 0; i < rounds; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
  })();

type Operation = 'append' | 'after' | 'lastId' | 'prune';

/**
 * An in-memory ReplayStore for unit tests only (production uses the store's
 * `stream_events` table). `delay` runs before an operation takes effect and
 * again before it answers, so reads and writes interleave as they would
 * against a real database; `failures` makes the next call of an operation throw.
 */
export class MemoryReplayStore implements ReplayStore {
  readonly #events = new Map<string, StoredEvent[]>();
  readonly #delay: () => Promise<void>;
  readonly failures = new Map<Operation, Error>();
  readonly calls: Record<Operation, number> = { append: 0, after: 0, lastId: 0, prune: 0 };

  constructor(options: { delay?: () => Promise<void> } = {}) {
    this.#delay = options.delay ?? (async () => {});
  }

  async append(tenantId: TenantId, conversationId: ConversationId, event: StoredEvent): Promise<void> {
    await this.#enter('append');
    const list = this.#list(tenantId, conversationId, true);
    let index = list.length;
    while (index > 0 && compareEventIds(list[index - 1]!.id, event.id) > 0) index -= 1;
    if (list[index - 1]?.id === event.id) throw new Error(`duplicate event id ${event.id}`);
    list.splice(index, 0, { ...event });
    await this.#delay();
  }

  async after(
    tenantId: TenantId,
    conversationId: ConversationId,
    afterId: EventId | null,
    limit: number,
  ): Promise<StoredEvent[]> {
    await this.#enter('after');
    const list = this.#list(tenantId, conversationId, false);
    const page = list
      .filter((event) => compareEventIds(event.id, afterId) > 0)
      .slice(0, limit)
      .map((event) => ({ ...event }));
    await this.#delay();
    return page;
  }

  async lastId(tenantId: TenantId, conversationId: ConversationId): Promise<EventId | null> {
    await this.#enter('lastId');
    const id = this.#list(tenantId, conversationId, false).at(-1)?.id ?? null;
    await this.#delay();
    return id;
  }

  async prune(tenantId: TenantId, conversationId: ConversationId, keepLast: number): Promise<void> {
    await this.#enter('prune');
    const list = this.#list(tenantId, conversationId, false);
    list.splice(0, Math.max(0, list.length - keepLast));
    await this.#delay();
  }

  /** Every stored id of a conversation, in order (test inspection). */
  ids(tenantId: TenantId, conversationId: ConversationId): EventId[] {
    return this.#list(tenantId, conversationId, false).map((event) => event.id);
  }

  async #enter(operation: Operation): Promise<void> {
    this.calls[operation] += 1;
    await this.#delay();
    const failure = this.failures.get(operation);
    if (failure) {
      this.failures.delete(operation);
      throw failure;
    }
  }

  #list(tenantId: TenantId, conversationId: ConversationId, create: boolean): StoredEvent[] {
    const key = `${tenantId}\u0000${conversationId}`;
    let list = this.#events.get(key);
    if (!list) {
      list = [];
      if (create) this.#events.set(key, list);
    }
    return list;
  }
}
