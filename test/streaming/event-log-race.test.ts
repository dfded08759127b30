import { describe, expect, it } from 'vitest';
import { asConversationId, asTenantId } from '../../src/core/types.ts';
import { compareEventIds, type EventId } from '../../src/streaming/event-id.ts';
import { EventLog } from '../../src/streaming/replay-buffer.ts';
import { MemoryReplayStore, seededRandom, settle } from './helpers.ts';

const tenant = asTenantId('tnt_race');
const conversation = asConversationId('cnv_race');

/** A store delay that interleaves work differently per call: none, a few microtasks, or a macrotask turn. */
function jitter(random: () => number): () => Promise<void> {
  return async () => {
    const roll = random();
    if (roll < 0.3) return;
    if (roll < 0.7) {
      for (let i = Math.floor(random() * 4); i >= 0; i -= 1) await Promise.resolve();
      return;
    }
    await settle(1);
  };
}

interface Reader {
  afterId: EventId | null;
  received: EventId[];
  done: Promise<void>;
}

/**
 * One run: a producer appends bursts of concurrent events while readers
 * subscribe at random moments with random resume ids — some on the producing
 * node, some on a second node that only learns of events through `wake` (as
 * from the EventBus) — and some read slowly. Every reader must receive every
 * event after its resume id, in order, exactly once.
 */
async function race(seed: number): Promise<void> {
  const random = seededRandom(seed);
  const store = new MemoryReplayStore({ delay: jitter(random) });
  const options = {
    store,
    pageSize: 1 + Math.floor(random() * 4),
    maxQueuedPerSubscriber: 1 + Math.floor(random() * 5),
  };
  const nodeA = new EventLog(options);
  const nodeB = new EventLog(options);
  const known: EventId[] = [];
  const readers: Reader[] = [];
  let turn = 1;

  const append = async (event: string, data: string) => {
    const stored = await nodeA.append(tenant, conversation, { turn, event, data });
    known.push(stored.id);
    nodeB.wake(tenant, conversation);
  };

  const startReader = () => {
    const afterId = random() < 0.2 || known.length === 0 ? null : known[Math.floor(random() * known.length)]!;
    const node = random() < 0.5 ? nodeA : nodeB;
    const slow = random() < 0.4;
    const subscription = node.subscribe(tenant, conversation, afterId);
    const reader: Reader = { afterId, received: [], done: Promise.resolve() };
    reader.done = (async () => {
      for await (const event of subscription) {
        reader.received.push(event.id);
        if (event.event === 'end') break;
        if (slow) await settle(1);
      }
    })();
    readers.push(reader);
  };

  for (let n = Math.floor(random() * 8); n > 0; n -= 1) await append('delta', 'before');
  for (let burst = 0; burst < 15; burst += 1) {
    if (random() < 0.3) turn += 1;
    const size = 1 + Math.floor(random() * 4);
    const inFlight = Array.from({ length: size }, () => append('delta', `burst ${burst}`));
    if (random() < 0.5) startReader();
    if (random() < 0.3) await settle(1);
    if (random() < 0.3) startReader();
    await Promise.all(inFlight);
  }
  startReader();
  await append('end', '');
  await Promise.all(readers.map((reader) => reader.done));

  const all = store.ids(tenant, conversation);
  expect(all).toEqual([...known].sort(compareEventIds));
  for (const reader of readers) {
    expect(reader.received).toEqual(all.filter((id) => compareEventIds(id, reader.afterId) > 0));
  }
}

describe('EventLog under concurrent appends and subscriptions', () => {
  it('gives every reader each event after its resume id exactly once, in order, on either node (60 seeds)', async () => {
    for (let seed = 1; seed <= 60; seed += 1) {
      try {
        await race(seed);
      } catch (error) {
        throw new Error(`seed ${seed}: ${(error as Error).message}`);
      }
    }
  });
});
