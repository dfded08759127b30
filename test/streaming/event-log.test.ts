import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { asConversationId, asTenantId } from '../../src/core/types.ts';
import { formatEventId } from '../../src/streaming/event-id.ts';
import { EventLog } from '../../src/streaming/replay-buffer.ts';
import type { StoredEvent } from '../../src/streaming/replay-store.ts';
import type { EventSubscription } from '../../src/streaming/subscription.ts';
import { ManualTimers, MemoryReplayStore, settle } from './helpers.ts';

const tenant = asTenantId('tnt_a');
const conversation = asConversationId('cnv_1');

/** Reads `count` events from a subscription. */
async function take(subscription: EventSubscription, count: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  while (out.length < count) {
    const next = await subscription.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

describe('EventLog ids', () => {
  it('numbers events <turn>.<seq>, restarting seq on a new turn and never going backwards', async () => {
    const log = new EventLog({ store: new MemoryReplayStore() });
    const ids = [];
    ids.push((await log.append(tenant, conversation, { turn: 8, event: 'turn', data: '{}' })).id);
    ids.push((await log.append(tenant, conversation, { turn: 9, event: 'delta', data: '{}' })).id);
    ids.push((await log.append(tenant, conversation, { turn: 9, event: 'delta', data: '{}' })).id);
    ids.push((await log.append(tenant, conversation, { event: 'context', data: '{}' })).id);
    ids.push((await log.append(tenant, conversation, { turn: 3, event: 'late', data: '{}' })).id);
    expect(ids).toEqual([
      formatEventId(8, 0),
      formatEventId(9, 0),
      formatEventId(9, 1),
      formatEventId(9, 2),
      formatEventId(9, 3),
    ]);
  });

  it('serializes concurrent appends to one conversation in call order', async () => {
    const store = new MemoryReplayStore({ delay: () => settle(1) });
    const log = new EventLog({ store });
    const events = await Promise.all(
      Array.from({ length: 20 }, (_, n) => log.append(tenant, conversation, { turn: 1, event: 'delta', data: `${n}` })),
    );
    expect(events.map((e) => e.data)).toEqual(Array.from({ length: 20 }, (_, n) => `${n}`));
    expect(store.ids(tenant, conversation)).toEqual(events.map((e) => e.id));
  });

  it('continues after the last stored id when a new node (or a restarted one) appends', async () => {
    const store = new MemoryReplayStore();
    await new EventLog({ store }).append(tenant, conversation, { turn: 4, event: 'delta', data: '' });
    const restarted = new EventLog({ store });
    expect((await restarted.append(tenant, conversation, { turn: 4, event: 'done', data: '' })).id).toBe(
      formatEventId(4, 1),
    );
  });

  it('re-reads the next id from the store for conversations evicted from its cache', async () => {
    const store = new MemoryReplayStore();
    const log = new EventLog({ store, maxCachedConversations: 1 });
    const other = asConversationId('cnv_2');
    await log.append(tenant, conversation, { turn: 1, event: 'delta', data: '' });
    await log.append(tenant, other, { turn: 1, event: 'delta', data: '' });
    await settle(1);
    expect((await log.append(tenant, conversation, { turn: 1, event: 'delta', data: '' })).id).toBe(
      formatEventId(1, 1),
    );
    expect(store.calls.lastId).toBe(3);
  });

  it('skips the id of a failed store write and stores nothing twice', async () => {
    const store = new MemoryReplayStore();
    const log = new EventLog({ store });
    const live = log.subscribe(tenant, conversation, null);
    await log.append(tenant, conversation, { turn: 1, event: 'delta', data: 'a' });
    store.failures.set('append', new Error('disk full'));
    await expect(log.append(tenant, conversation, { turn: 1, event: 'delta', data: 'b' })).rejects.toThrow('disk full');
    const third = await log.append(tenant, conversation, { turn: 1, event: 'delta', data: 'c' });
    expect(third.id).toBe(formatEventId(1, 2));
    expect((await take(live, 2)).map((e) => e.data)).toEqual(['a', 'c']);
  });

  it('refuses event names with line breaks and bad turns', () => {
    const log = new EventLog({ store: new MemoryReplayStore() });
    expect(() => log.append(tenant, conversation, { event: 'a\nb', data: '' })).toThrow(TypeError);
    expect(() => log.append(tenant, conversation, { event: '', data: '' })).toThrow(TypeError);
    expect(() => log.append(tenant, conversation, { turn: -1, event: 'x', data: '' })).toThrow(TypeError);
    expect(() => log.subscribe(tenant, conversation, 'not-an-id')).toThrow(TypeError);
  });
});

describe('EventLog replay then live', () => {
  it('replays exactly the events after the resume id, then continues live', async () => {
    const log = new EventLog({ store: new MemoryReplayStore(), pageSize: 2 });
    const stored = [];
    for (let n = 0; n < 5; n += 1)
      stored.push(await log.append(tenant, conversation, { turn: 1, event: 'delta', data: `${n}` }));
    const subscription = log.subscribe(tenant, conversation, stored[1]!.id);
    expect((await take(subscription, 3)).map((e) => e.data)).toEqual(['2', '3', '4']);
    const pending = subscription.next();
    await log.append(tenant, conversation, { turn: 2, event: 'done', data: 'live' });
    expect((await pending).value).toMatchObject({ id: formatEventId(2, 0), event: 'done', data: 'live' });
    subscription.close();
  });

  it('starts from the oldest retained event when the resume id is null', async () => {
    const log = new EventLog({ store: new MemoryReplayStore() });
    await log.append(tenant, conversation, { turn: 1, event: 'turn', data: 'first' });
    const subscription = log.subscribe(tenant, conversation, null);
    expect((await take(subscription, 1))[0]!.data).toBe('first');
    subscription.close();
  });

  it('does not mix tenants or conversations', async () => {
    const log = new EventLog({ store: new MemoryReplayStore() });
    const subscription = log.subscribe(tenant, conversation, null);
    await log.append(asTenantId('tnt_b'), conversation, { turn: 1, event: 'delta', data: 'other tenant' });
    await log.append(tenant, asConversationId('cnv_2'), { turn: 1, event: 'delta', data: 'other conversation' });
    await log.append(tenant, conversation, { turn: 1, event: 'delta', data: 'mine' });
    expect((await take(subscription, 1))[0]!.data).toBe('mine');
    subscription.close();
  });

  it('hands a slow reader every event once after its live queue overflows', async () => {
    const log = new EventLog({ store: new MemoryReplayStore(), maxQueuedPerSubscriber: 4, pageSize: 3 });
    const subscription = log.subscribe(tenant, conversation, null);
    await log.append(tenant, conversation, { turn: 1, event: 'delta', data: '0' });
    expect((await take(subscription, 1))[0]!.data).toBe('0'); // now live
    for (let n = 1; n < 50; n += 1) await log.append(tenant, conversation, { turn: 1, event: 'delta', data: `${n}` });
    const rest = await take(subscription, 49);
    expect(rest.map((e) => e.data)).toEqual(Array.from({ length: 49 }, (_, n) => `${n + 1}`));
    subscription.close();
  });

  it('ends on close, on break and on abort, and forgets the subscriber', async () => {
    const log = new EventLog({ store: new MemoryReplayStore() });
    const closing = log.subscribe(tenant, conversation, null);
    const pending = closing.next();
    await settle();
    closing.close();
    expect((await pending).done).toBe(true);

    const controller = new AbortController();
    const aborted = log.subscribe(tenant, conversation, null, { signal: controller.signal });
    expect(log.subscriberCount(tenant, conversation)).toBe(1);
    const waiting = aborted.next();
    controller.abort();
    expect((await waiting).done).toBe(true);
    expect(log.subscribe(tenant, conversation, null, { signal: controller.signal }).closed).toBe(true);

    await log.append(tenant, conversation, { turn: 1, event: 'delta', data: 'x' });
    for await (const event of log.subscribe(tenant, conversation, null)) {
      expect(event.data).toBe('x');
      break;
    }
    expect(log.subscriberCount(tenant, conversation)).toBe(0);
  });

  it('ends with the store error when a replay read fails', async () => {
    const store = new MemoryReplayStore();
    const log = new EventLog({ store });
    const subscription = log.subscribe(tenant, conversation, null);
    store.failures.set('after', new Error('store down'));
    await expect(subscription.next()).rejects.toThrow('store down');
    expect(subscription.closed).toBe(true);
    expect(log.subscriberCount(tenant, conversation)).toBe(0);
  });
});

describe('EventLog across nodes', () => {
  it('delivers events stored by another node when woken (EventBus) or by polling', async () => {
    const store = new MemoryReplayStore();
    const nodeA = new EventLog({ store });
    const clock = new FakeClock();
    const timers = new ManualTimers(clock);
    const nodeB = new EventLog({ store, pollIntervalMs: 500, timers });
    const first = await nodeA.append(tenant, conversation, { turn: 1, event: 'delta', data: 'a' });
    const onB = nodeB.subscribe(tenant, conversation, first.id);

    const woken = onB.next();
    await settle();
    await nodeA.append(tenant, conversation, { turn: 1, event: 'delta', data: 'b' });
    nodeB.wake(tenant, conversation);
    expect((await woken).value?.data).toBe('b');

    const polled = onB.next();
    await settle();
    await nodeA.append(tenant, conversation, { turn: 1, event: 'delta', data: 'c' });
    timers.advance(500);
    expect((await polled).value?.data).toBe('c');
    onB.close();
    expect(timers.pending).toBe(0);
  });
});

describe('EventLog retention', () => {
  it('keeps about the newest retainEvents events per conversation', async () => {
    const store = new MemoryReplayStore();
    const log = new EventLog({ store, retainEvents: 10 });
    for (let n = 0; n < 100; n += 1) await log.append(tenant, conversation, { turn: 1, event: 'delta', data: `${n}` });
    await settle();
    const ids = store.ids(tenant, conversation);
    expect(ids.length).toBeGreaterThanOrEqual(10);
    expect(ids.length).toBeLessThanOrEqual(11);
    expect(ids.at(-1)).toBe(formatEventId(1, 99));
  });

  it('tells a client that resumes from a pruned id where replay restarts', async () => {
    const store = new MemoryReplayStore();
    const log = new EventLog({ store, retainEvents: 10 });
    const first = await log.append(tenant, conversation, { turn: 1, event: 'delta', data: '0' });
    for (let n = 1; n < 30; n += 1) await log.append(tenant, conversation, { turn: 1, event: 'delta', data: `${n}` });
    await settle();
    const oldest = store.ids(tenant, conversation)[0]!;
    const truncated: string[] = [];
    const subscription = log.subscribe(tenant, conversation, first.id, { onTruncated: (id) => truncated.push(id) });
    const [event] = await take(subscription, 1);
    expect(truncated).toEqual([oldest]);
    expect(event!.id).toBe(oldest);
    subscription.close();

    const recent = log.subscribe(tenant, conversation, oldest, { onTruncated: (id) => truncated.push(id) });
    await take(recent, 1);
    expect(truncated).toHaveLength(1);
    recent.close();
  });

  it('reports a failed prune without failing the append', async () => {
    const store = new MemoryReplayStore();
    const errors: unknown[] = [];
    const log = new EventLog({ store, retainEvents: 1, onError: (error) => errors.push(error) });
    store.failures.set('prune', new Error('prune failed'));
    await expect(log.append(tenant, conversation, { turn: 1, event: 'delta', data: '' })).resolves.toBeDefined();
    await settle();
    expect(errors).toHaveLength(1);
  });
});
