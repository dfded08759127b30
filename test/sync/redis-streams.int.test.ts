import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { AppError } from '../../src/errors/index.ts';
import { createRedisLimits, type RedisLimits } from '../../src/server/limits/index.ts';
import { MultiStreamManager, type StreamScheduler } from '../../src/streaming/scheduler.ts';
import { privateRedisUnavailable, startPrivateRedis } from '../helpers/private-services.ts';
import { redisUrl, uniqueName } from '../helpers/services.ts';

const url = redisUrl();
const tenant = (name: string) => name as never;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A node: its own scheduler (as generous as the cluster limit), the cluster limit through Redis on top. */
function node(
  redis: string,
  prefix: string,
  limit: number,
  maxWaitMs: number,
): { streams: StreamScheduler; limits: RedisLimits } {
  const clock = new FakeClock(Date.parse('2026-11-26T00:00:00Z'));
  const limits = createRedisLimits({
    url: redis,
    prefix,
    clock,
    ratePerTenant: 0,
    ratePerSubject: 0,
    maxSessionsPerTenant: 0,
    sessionIdleTtlMs: 60_000,
    maxStreamsPerTenant: limit,
    streamMaxWaitMs: maxWaitMs,
  });
  const local = new MultiStreamManager({ maxConcurrentPerTenant: limit, maxWaitMs });
  return { streams: limits.streams(local), limits };
}

describe.skipIf(!url)('reply generation slots shared through Redis', () => {
  const opened: RedisLimits[] = [];
  const make = (prefix: string, limit: number, maxWaitMs: number, redis = url!) => {
    const n = node(redis, prefix, limit, maxWaitMs);
    opened.push(n.limits);
    return n.streams;
  };
  afterAll(async () => {
    for (const limits of opened) await limits.close();
  });

  it('never more than the tenant limit generate at once across two nodes, and every request completes', async () => {
    const prefix = `${uniqueName('streams')}:`;
    const a = make(prefix, 3, 10_000);
    const b = make(prefix, 3, 10_000);
    let running = 0;
    let most = 0;
    const done = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const release = await (i % 2 === 0 ? a : b).acquire(tenant('tnt_shared'), 'normal');
        running += 1;
        most = Math.max(most, running);
        await sleep(20);
        running -= 1;
        release();
        return true;
      }),
    );
    expect(done).toHaveLength(20);
    expect(most).toBe(3);
  });

  it('a slot freed on one node goes to a request waiting on the other; none is refused past its wait with Retry-After', async () => {
    const prefix = `${uniqueName('streams')}:`;
    const a = make(prefix, 2, 3_000);
    const b = make(prefix, 2, 3_000);
    const first = await a.acquire(tenant('tnt_wait'), 'normal');
    await a.acquire(tenant('tnt_wait'), 'normal');
    let granted = false;
    const waiting = b.acquire(tenant('tnt_wait'), 'high').then((release) => {
      granted = true;
      return release;
    });
    await sleep(300);
    expect(granted).toBe(false);
    first();
    const release = await waiting;
    expect(granted).toBe(true);
    release();

    const short = make(prefix, 2, 200);
    await a.acquire(tenant('tnt_busy'), 'normal');
    await a.acquire(tenant('tnt_busy'), 'normal');
    const refused = await short.acquire(tenant('tnt_busy'), 'normal').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('streams_busy');
  });

  it.skipIf(privateRedisUnavailable() !== undefined)(
    'when Redis does not answer, the node applies its own limit and keeps serving',
    async () => {
      const redis = await startPrivateRedis();
      try {
        const a = make('fallback:', 1, 500, redis.url);
        const release = await a.acquire(tenant('tnt_down'), 'normal');
        release();
        await redis.stop();
        const started = Date.now();
        const again = await a.acquire(tenant('tnt_down'), 'normal');
        expect(Date.now() - started).toBeLessThan(2_000);
        again();
      } finally {
        await redis.destroy();
      }
    },
  );
});
