import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../src/errors/index.ts';
import type { ConversationEvent, EventBus } from '../../src/sync/event-bus.ts';
import { createRedisEventBus, type RedisEventBus } from '../../src/sync/redis-event-bus.ts';
import { type PrivateService, privateRedisUnavailable, startPrivateRedis } from '../helpers/private-services.ts';
import { redisUrl, uniqueName } from '../helpers/services.ts';

const url = redisUrl();

const created = (tenantId: string, conversationId: string, n = 0): ConversationEvent => ({
  type: 'conversation.created',
  tenantId: tenantId as never,
  conversationId: conversationId as never,
  at: new Date(n).toISOString(),
});

const appended = (tenantId: string, conversationId: string, turn: number): ConversationEvent => ({
  type: 'turn.appended',
  tenantId: tenantId as never,
  conversationId: conversationId as never,
  turn,
  role: 'user',
  hash: `h${turn}`,
  at: new Date(turn).toISOString(),
});

/** How long a call took, in ms, and how it ended. */
async function timed(run: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  try {
    await run();
    return { ms: performance.now() - started, error: undefined };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

describe.skipIf(!url)('Redis EventBus (skipped without CONTINUUM_TEST_REDIS_URL)', () => {
  const prefix = `${uniqueName('bus')}:`;
  const buses: EventBus[] = [];
  const node = (options: { onError?: (error: unknown) => void; onHandlerError?: (error: unknown) => void } = {}) => {
    const bus = createRedisEventBus({ url: url!, prefix, ...options });
    buses.push(bus);
    return bus;
  };
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  it('reports kind redis and passes its probe: a real publish→receive round trip', async () => {
    const bus = node();
    expect(bus.kind).toBe('redis');
    await expect(bus.probe()).resolves.toBeUndefined();
    expect((bus as RedisEventBus).healthy).toBe(true);
  });

  it('two nodes see every event of both, in publish order, the publishing node included', async () => {
    const [a, b] = [node(), node()] as RedisEventBus[];
    const seenA: string[] = [];
    const seenB: string[] = [];
    a!.subscribe({ tenantId: 'tnt_order' as never }, (e) =>
      seenA.push(`${e.conversationId}:${(e as { turn: number }).turn}`),
    );
    b!.subscribe({ tenantId: 'tnt_order' as never }, (e) =>
      seenB.push(`${e.conversationId}:${(e as { turn: number }).turn}`),
    );
    await Promise.all([a!.subscribed(), b!.subscribed()]);
    const expected: string[] = [];
    for (let turn = 1; turn <= 20; turn++) {
      const from = turn % 3 === 0 ? b! : a!;
      await from.publish(appended('tnt_order', 'cnv_1', turn));
      expected.push(`cnv_1:${turn}`);
    }
    await vi.waitFor(() => expect(seenA).toHaveLength(20), { timeout: 5000 });
    await vi.waitFor(() => expect(seenB).toHaveLength(20), { timeout: 5000 });
    expect(seenA).toEqual(expected);
    expect(seenB).toEqual(expected);
  });

  it('delivers per conversation and per tenant, never another tenant, isolates a failing handler, and unsubscribes', async () => {
    const handlerErrors: unknown[] = [];
    const receiver = node({ onHandlerError: (error) => handlerErrors.push(error) }) as RedisEventBus;
    const sender = node();
    const got: string[] = [];
    receiver.subscribe({ tenantId: 'tnt_a' as never, conversationId: 'cnv_1' as never }, () => {
      throw new Error('handler bug');
    });
    const off = receiver.subscribe({ tenantId: 'tnt_a' as never, conversationId: 'cnv_1' as never }, (e) =>
      got.push(`conv:${e.conversationId}`),
    );
    const offTenant = receiver.subscribe({ tenantId: 'tnt_a' as never }, (e) => got.push(`tenant:${e.conversationId}`));
    await receiver.subscribed();
    await sender.publish(created('tnt_a', 'cnv_1'));
    await sender.publish(created('tnt_a', 'cnv_2'));
    await sender.publish(created('tnt_b', 'cnv_1'));
    await sender.publish(created('tnt_a', 'cnv_3'));
    await vi.waitFor(() => expect(got).toHaveLength(4), { timeout: 5000 });
    expect(got).toEqual(['conv:cnv_1', 'tenant:cnv_1', 'tenant:cnv_2', 'tenant:cnv_3']);
    expect(handlerErrors).toHaveLength(1);

    off();
    offTenant();
    await receiver.subscribed();
    await sender.publish(created('tnt_a', 'cnv_1'));
    // The probe's own round trip travels after the last publish: once it is back, nothing else is coming.
    await receiver.probe();
    expect(got).toHaveLength(4);
    expect(handlerErrors).toHaveLength(2);
  });

  it('carries no message text: the events are the same objects the memory bus carries', async () => {
    const bus = node() as RedisEventBus;
    const seen: ConversationEvent[] = [];
    bus.subscribe({ tenantId: 'tnt_shape' as never, conversationId: 'cnv_9' as never }, (e) => seen.push(e));
    await bus.subscribed();
    const events: ConversationEvent[] = [
      created('tnt_shape', 'cnv_9', 1),
      appended('tnt_shape', 'cnv_9', 1),
      {
        type: 'conversation.closed',
        tenantId: 'tnt_shape' as never,
        conversationId: 'cnv_9' as never,
        turn: 1,
        at: 'x',
      },
    ];
    for (const event of events) await bus.publish(event);
    await vi.waitFor(() => expect(seen).toHaveLength(3), { timeout: 5000 });
    expect(seen).toEqual(events);
  });

  it('refuses a URL that is not redis:// at construction, saying how to fix it', () => {
    expect(() => createRedisEventBus({ url: 'http://127.0.0.1:6379' })).toThrow(/redis:\/\//);
    expect(() => createRedisEventBus({ url: '' })).toThrow(TypeError);
  });
});

describe.skipIf(!url || privateRedisUnavailable() !== undefined)(
  'Redis EventBus through an outage (skipped without CONTINUUM_TEST_REDIS_URL or a redis-server binary)',
  () => {
    let server: PrivateService;
    let bus: RedisEventBus;
    let other: RedisEventBus;
    const errors: unknown[] = [];
    beforeAll(async () => {
      server = await startPrivateRedis();
      bus = createRedisEventBus({ url: server.url, onError: (error) => errors.push(error) });
      other = createRedisEventBus({ url: server.url });
    });
    afterAll(async () => {
      await Promise.all([bus?.close(), other?.close()]);
      await server?.destroy();
    });

    it('fails fast while Redis is down, never crashes, and recovers delivery and probe without being rebuilt', async () => {
      const seen: string[] = [];
      bus.subscribe({ tenantId: 'tnt_before' as never }, (e) => seen.push(`before:${e.conversationId}`));
      await bus.probe();
      await other.probe();
      await other.publish(created('tnt_before', 'cnv_1'));
      await vi.waitFor(() => expect(seen).toEqual(['before:cnv_1']), { timeout: 5000 });

      await server.stop();
      await vi.waitFor(() => expect(bus.healthy).toBe(false), { timeout: 2000 });

      // A publish never fails the request that made the change: it gives up at once and tells onError.
      expect(errors.length, 'the lost connection is reported').toBeGreaterThan(0);
      const publish = await timed(() => bus.publish(created('tnt_before', 'cnv_lost')));
      expect(publish.error).toBeUndefined();
      expect(publish.ms).toBeLessThan(1000);
      const failed = errors.filter((error) => error instanceof AppError);
      expect(failed).toHaveLength(1);
      expect((failed[0] as AppError).message).toContain('publish');
      const probe = await timed(() => bus.probe());
      expect(probe.error).toBeInstanceOf(Error);
      expect(probe.ms).toBeLessThan(1000);
      expect(bus.lastError).toBeInstanceOf(Error);

      // A subscription made during the outage takes effect once Redis is back.
      bus.subscribe({ tenantId: 'tnt_during' as never }, (e) => seen.push(`during:${e.conversationId}`));

      await server.start();
      await vi.waitFor(() => bus.probe(), { timeout: 10_000, interval: 200 });
      await vi.waitFor(() => other.probe(), { timeout: 10_000, interval: 200 });
      expect(bus.healthy).toBe(true);
      await bus.subscribed();
      await other.publish(created('tnt_before', 'cnv_2'));
      await other.publish(created('tnt_during', 'cnv_3'));
      await bus.publish(created('tnt_before', 'cnv_4'));
      await vi.waitFor(() => expect(seen).toHaveLength(4), { timeout: 5000 });
      expect(seen).toEqual(['before:cnv_1', 'before:cnv_2', 'during:cnv_3', 'before:cnv_4']);
    });
  },
);
