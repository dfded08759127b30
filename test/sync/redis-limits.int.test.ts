import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SessionPool, type SessionRegistry } from '../../src/conversations/session-pool.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { AppError } from '../../src/errors/index.ts';
import { createRedisLimits, type LimitFallback, type RedisLimits } from '../../src/server/limits/index.ts';
import { type RateLimiter, TokenBucketLimiter } from '../../src/server/rate-limiter.ts';
import { type PrivateService, privateRedisUnavailable, startPrivateRedis } from '../helpers/private-services.ts';
import { redisUrl, uniqueName } from '../helpers/services.ts';

const url = redisUrl();

/** The AppError a call rejected with (fails the test when it passed). */
async function refusal(call: Promise<unknown>): Promise<AppError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const tenant = (name: string) => name as never;

interface LimitsUnderTest {
  clock: FakeClock;
  /** Rate 5/s (bursts of 10) for tenants. */
  limiter: RateLimiter;
  /** At most 3 sessions per tenant, idle after 60 s. */
  sessions: SessionRegistry;
}

/** One behaviour for the node-local limits and the Redis ones. */
function describeLimits(name: string, make: () => Promise<LimitsUnderTest>) {
  describe(`${name}: same semantics as the node-local limits`, () => {
    it('lets a key burst twice its rate, refuses the next with rate_limited and Retry-After, and refills with time', async () => {
      const { clock, limiter } = await make();
      for (let i = 0; i < 10; i++) await limiter.take('tnt_burst', 'tenant');
      const error = await refusal(limiter.take('tnt_burst', 'tenant'));
      expect(error.code).toBe('rate_limited');
      expect(error.headers['retry-after']).toBe('1');
      expect(error.message).toContain('tenant');
      await limiter.take('tnt_other', 'tenant');
      clock.advance(200);
      await limiter.take('tnt_burst', 'tenant');
      await refusal(limiter.take('tnt_burst', 'tenant'));
      clock.advance(1000);
      for (let i = 0; i < 5; i++) await limiter.take('tnt_burst', 'tenant');
      await refusal(limiter.take('tnt_burst', 'tenant'));
    });

    it('refuses a 4th session with session_limit and a Retry-After that is when the oldest goes idle', async () => {
      const { clock, sessions } = await make();
      const t = tenant(uniqueName('tnt'));
      await sessions.touch(t, 'cnv_1' as never);
      clock.advance(5_000);
      await sessions.touch(t, 'cnv_2' as never);
      await sessions.touch(t, 'cnv_3' as never);
      clock.advance(5_000);
      await sessions.touch(t, 'cnv_1' as never); // still one session: refreshed, not added
      expect(await sessions.active(t)).toBe(3);
      const error = await refusal(sessions.touch(t, 'cnv_4' as never));
      expect(error.code).toBe('session_limit');
      expect(error.headers['retry-after']).toBe('55'); // cnv_2, seen at 5 s, is now the oldest
      expect(error.extras['limit']).toBe(3);
      clock.advance(55_000);
      expect(await sessions.active(t)).toBe(1);
      await sessions.touch(t, 'cnv_4' as never);
      await sessions.release(t, 'cnv_1' as never);
      expect(await sessions.active(t)).toBe(1);
      expect(await sessions.active(tenant('tnt_nobody'))).toBe(0);
    });
  });
}

describeLimits('node-local limits', async () => {
  const clock = new FakeClock();
  return {
    clock,
    limiter: new TokenBucketLimiter({ clock, ratePerSecond: 5 }),
    sessions: new SessionPool({ clock, maxPerTenant: 3, idleTtlMs: 60_000 }),
  };
});

describe.skipIf(!url)('Redis limits (skipped without CONTINUUM_TEST_REDIS_URL)', () => {
  const prefix = `${uniqueName('limits')}:`;
  const opened: RedisLimits[] = [];
  let admin: Redis;
  const limits = (clock: FakeClock, fallbacks: LimitFallback[] = []) => {
    const created = createRedisLimits({
      url: url!,
      prefix,
      clock,
      ratePerTenant: 5,
      ratePerSubject: 0,
      maxSessionsPerTenant: 3,
      sessionIdleTtlMs: 60_000,
      onFallback: (event) => fallbacks.push(event),
    });
    opened.push(created);
    return created;
  };
  beforeAll(() => {
    admin = new Redis(url!);
  });
  afterAll(async () => {
    await Promise.all(opened.map((l) => l.close()));
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  describeLimits('Redis limits', async () => {
    const clock = new FakeClock();
    // Each run gets its own key space: the Redis tests share one server.
    const own = createRedisLimits({
      url: url!,
      prefix: `${prefix}${uniqueName('suite')}:`,
      clock,
      ratePerTenant: 5,
      ratePerSubject: 0,
      maxSessionsPerTenant: 3,
      sessionIdleTtlMs: 60_000,
    });
    opened.push(own);
    return { clock, limiter: own.tenantLimiter, sessions: own.sessions };
  });

  it('two nodes spend one rate budget: 10 takes across both pass, the 11th is refused with Retry-After', async () => {
    const clock = new FakeClock();
    const fallbacks: LimitFallback[] = [];
    const [a, b] = [limits(clock, fallbacks), limits(clock, fallbacks)];
    for (let i = 0; i < 10; i++) await (i % 2 === 0 ? a : b).tenantLimiter.take('tnt_shared', 'tenant');
    const error = await refusal(b.tenantLimiter.take('tnt_shared', 'tenant'));
    expect(error.code).toBe('rate_limited');
    expect(error.headers['retry-after']).toBe('1');
    await refusal(a.tenantLimiter.take('tnt_shared', 'tenant'));
    clock.advance(400);
    await a.tenantLimiter.take('tnt_shared', 'tenant');
    await b.tenantLimiter.take('tnt_shared', 'tenant');
    await refusal(a.tenantLimiter.take('tnt_shared', 'tenant'));
    expect(fallbacks).toEqual([]);
    // A bucket's key goes away once it would be full again (plus a minute).
    const ttl = await admin.pttl(`${prefix}rate:tenant:tnt_shared`);
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(62_000);
    // A limiter with rate 0 is off and never asks Redis.
    expect(a.subjectLimiter.enabled).toBe(false);
    for (let i = 0; i < 50; i++) await a.subjectLimiter.take('anyone', 'subject');
  });

  it('two nodes share one session pool: at most 3 active sessions per tenant across both', async () => {
    const clock = new FakeClock();
    const fallbacks: LimitFallback[] = [];
    const [a, b] = [limits(clock, fallbacks), limits(clock, fallbacks)];
    const t = tenant(uniqueName('tnt'));
    await a.sessions.touch(t, 'cnv_1' as never);
    await b.sessions.touch(t, 'cnv_2' as never);
    clock.advance(1000);
    await a.sessions.touch(t, 'cnv_3' as never);
    await b.sessions.touch(t, 'cnv_1' as never); // the same session, seen through the other node
    expect(await a.sessions.active(t)).toBe(3);
    expect(await b.sessions.active(t)).toBe(3);
    const error = await refusal(b.sessions.touch(t, 'cnv_4' as never));
    expect(error.code).toBe('session_limit');
    expect(error.headers['retry-after']).toBe('59');
    await a.sessions.release(t, 'cnv_2' as never);
    await b.sessions.touch(t, 'cnv_4' as never);
    await refusal(a.sessions.touch(t, 'cnv_5' as never));
    expect(fallbacks).toEqual([]);
    const ttl = await admin.pttl(`${prefix}sessions:${t}`);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});

describe.skipIf(!url || privateRedisUnavailable() !== undefined)(
  'Redis limits through an outage (skipped without CONTINUUM_TEST_REDIS_URL or a redis-server binary)',
  () => {
    let server: PrivateService;
    let limits: RedisLimits;
    let admin: Redis;
    const clock = new FakeClock();
    const fallbacks: LimitFallback[] = [];
    const errors: unknown[] = [];
    beforeAll(async () => {
      server = await startPrivateRedis();
      admin = new Redis(server.url, { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
      limits = createRedisLimits({
        url: server.url,
        clock,
        ratePerTenant: 5,
        ratePerSubject: 0,
        maxSessionsPerTenant: 2,
        sessionIdleTtlMs: 60_000,
        onFallback: (event) => fallbacks.push(event),
        onError: (error) => errors.push(error),
      });
    });
    afterAll(async () => {
      await limits?.close();
      admin?.disconnect();
      await server?.destroy();
    });

    it('falls back to this node’s limits at once while Redis is down, and counts across nodes again when it is back', async () => {
      const t = tenant('tnt_outage');
      await limits.tenantLimiter.take('tnt_outage', 'tenant');
      await limits.sessions.touch(t, 'cnv_1' as never);
      expect(fallbacks).toEqual([]);

      await server.stop();
      await vi.waitFor(() => expect(limits.healthy).toBe(false), { timeout: 2000 });

      // Each call is decided locally without waiting on Redis; the local limits still hold.
      const started = performance.now();
      for (let i = 0; i < 10; i++) await limits.tenantLimiter.take('tnt_outage', 'tenant');
      const rate = await refusal(limits.tenantLimiter.take('tnt_outage', 'tenant'));
      expect(rate.code).toBe('rate_limited');
      await limits.sessions.touch(t, 'cnv_2' as never);
      await limits.sessions.touch(t, 'cnv_3' as never);
      const session = await refusal(limits.sessions.touch(t, 'cnv_4' as never));
      expect(session.code).toBe('session_limit');
      expect(await limits.sessions.active(t)).toBe(2);
      await limits.sessions.release(t, 'cnv_2' as never);
      expect(performance.now() - started).toBeLessThan(1000);
      expect(fallbacks.length).toBe(16);
      expect(new Set(fallbacks.map((f) => f.operation))).toEqual(
        new Set(['rate_limit:tenant', 'session_touch', 'session_active', 'session_release']),
      );
      expect(errors.length).toBeGreaterThan(0);

      await server.start();
      await vi.waitFor(() => expect(limits.healthy).toBe(true), { timeout: 10_000, interval: 100 });
      fallbacks.length = 0;
      // Back on Redis (a fresh server: it counts from a full bucket), with no restart of the limits.
      clock.advance(10_000);
      for (let i = 0; i < 10; i++) await limits.tenantLimiter.take('tnt_outage', 'tenant');
      await refusal(limits.tenantLimiter.take('tnt_outage', 'tenant'));
      await limits.sessions.touch(t, 'cnv_9' as never);
      expect(fallbacks).toEqual([]);
      await admin.connect();
      expect(await admin.exists('continuum:rate:tenant:tnt_outage')).toBe(1);
      expect(await admin.zrange(`continuum:sessions:${t}`, '0', '-1')).toEqual(['cnv_9']);
    });
  },
);
