import { describe, expect, it } from 'vitest';
import { asConversationId, asTenantId } from '../../src/core/types.ts';
import { EventLog } from '../../src/streaming/replay-buffer.ts';
import type { StoredEvent } from '../../src/streaming/replay-store.ts';
import { type ConversationEvent, createMemoryEventBus } from '../../src/sync/event-bus.ts';
import { createSyncedReplayStore } from '../../src/sync/synced-replay-store.ts';
import { MemoryReplayStore } from '../streaming/helpers.ts';

const tenant = asTenantId('tnt_synced');
const conversation = asConversationId('cnv_synced');

/** Two nodes' event logs over one shared store and one bus, as `buildApp` wires them. */
function twoNodes(orderWaitMs = 1_000) {
  const shared = new MemoryReplayStore();
  const bus = createMemoryEventBus();
  const node = (name: string) => {
    const log: EventLog = new EventLog({
      store: createSyncedReplayStore(shared, {
        bus,
        node: name,
        orderWaitMs,
        onForeignEvents: (tenantId, conversationId) => log.wake(tenantId, conversationId),
      }),
    });
    return log;
  };
  return { shared, bus, a: node('node_a'), b: node('node_b') };
}

const event = (turn: number, name: string, data: unknown) => ({ turn, event: name, data: JSON.stringify(data) });

async function take(iterator: AsyncIterator<StoredEvent>, count: number): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < count) {
    const next = await iterator.next();
    if (next.done) break;
    ids.push(next.value.id);
  }
  return ids;
}

describe('the synced replay store', () => {
  it('stores turn N only once turn N-1 is visible, so a follower on the faster node still sees N-1 first', async () => {
    const { a, b } = twoNodes();
    const follower = b.subscribe(tenant, conversation, null);
    // Node A committed turn 1 but has not stored its event yet; node B committed turn 2 right after.
    let bStored = false;
    const fromB = b.append(tenant, conversation, event(2, 'turn', { number: 2 })).then(() => {
      bStored = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(bStored, 'turn 2 waits for turn 1').toBe(false);
    await a.append(tenant, conversation, event(1, 'turn', { number: 1 }));
    await fromB;
    expect(await take(follower, 2)).toEqual(['000000000001.000000', '000000000002.000000']);
    follower.close();
  });

  it('gives up waiting after orderWaitMs when turn N-1 never gets an event', async () => {
    const { b, shared } = twoNodes(50);
    const started = Date.now();
    await b.append(tenant, conversation, event(5, 'turn', { number: 5 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(await shared.lastId(tenant, conversation)).toBe('000000000005.000000');
  });

  it('does not wait for its own earlier events, nor for turn 1', async () => {
    const { a, shared } = twoNodes();
    await a.append(tenant, conversation, event(1, 'turn', { number: 1 }));
    await a.append(tenant, conversation, event(2, 'delta', { text: 'Take it' }));
    await a.append(tenant, conversation, event(2, 'turn', { number: 2 }));
    expect(shared.calls.lastId).toBe(1); // the event log's own first look, nothing more
  });

  it('announces each stored event on the bus with ids and names only', async () => {
    const { a, bus } = twoNodes();
    const seen: ConversationEvent[] = [];
    bus.subscribe({ tenantId: tenant, conversationId: conversation }, (notice) => seen.push(notice));
    await a.append(tenant, conversation, event(1, 'turn', { number: 1, content: 'secret text' }));
    expect(seen).toEqual([
      {
        type: 'stream.appended',
        tenantId: tenant,
        conversationId: conversation,
        eventId: '000000000001.000000',
        event: 'turn',
        node: 'node_a',
      },
    ]);
    expect(JSON.stringify(seen)).not.toContain('secret');
  });

  it('followers woken together share one read of the store', async () => {
    const { a, b, shared } = twoNodes();
    await a.append(tenant, conversation, event(1, 'turn', { number: 1 }));
    const followers = Array.from({ length: 10 }, () => b.subscribe(tenant, conversation, '000000000001.000000'));
    const next = followers.map((follower) => take(follower, 1));
    await new Promise((resolve) => setTimeout(resolve, 20)); // every follower has read the store and waits live
    const before = shared.calls.after;
    await a.append(tenant, conversation, event(2, 'turn', { number: 2 }));
    b.wake(tenant, conversation); // what the hub does on the bus notice
    const got = await Promise.all(next);
    expect(got).toEqual(followers.map(() => ['000000000002.000000']));
    // One shared read, and one more when that read revealed events this node had not known of.
    expect(shared.calls.after - before).toBeLessThanOrEqual(2);
    for (const follower of followers) follower.close();
  });
});
