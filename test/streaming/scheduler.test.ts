import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { asTenantId } from '../../src/core/types.ts';
import { type AppError, isAppError } from '../../src/errors/index.ts';
import {
  MultiStreamManager,
  type MultiStreamManagerOptions,
  type ReleaseStream,
  type StreamPriority,
} from '../../src/streaming/scheduler.ts';
import { ManualTimers, seededRandom } from './helpers.ts';

const tenant = asTenantId('tnt_streams');

function setup(options: MultiStreamManagerOptions = {}) {
  const clock = new FakeClock();
  const timers = new ManualTimers(clock);
  const manager = new MultiStreamManager({ clock, timers, ...options });
  return { clock, timers, manager };
}

/** Lets promise callbacks run (no real time passes). */
const flush = async () => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
};

function expectStreamsBusy(error: unknown): AppError {
  expect(isAppError(error)).toBe(true);
  const appError = error as AppError;
  expect(appError.status).toBe(429);
  // `streams_busy` once the code table has it; until then `rate_limited` naming it as the reason.
  if (appError.code !== ('streams_busy' as string)) {
    expect(appError.code).toBe('rate_limited');
    expect(appError.extras.reason).toBe('streams_busy');
  }
  const seconds = appError.extras.retryAfterSeconds as number;
  expect(Number.isInteger(seconds) && seconds >= 1).toBe(true);
  expect(appError.headers['Retry-After']).toBe(String(seconds));
  return appError;
}

describe('MultiStreamManager', () => {
  it('20 concurrent requests, limit 5: never more than 5 run, highs before queued normals, each completes or gets 429', async () => {
    const { timers, manager } = setup({ maxConcurrentPerTenant: 5, maxWaitMs: 7_000, agingMs: 3_600_000 });
    const random = seededRandom(5);
    const priorities: StreamPriority[] = Array.from(
      { length: 20 },
      () => (['high', 'normal', 'low'] as const)[Math.floor(random() * 3)]!,
    );
    let running = 0;
    let maxRunning = 0;
    const started: number[] = [];
    const outcomes: Array<'completed' | 'rejected'> = [];
    const requests = priorities.map((priority, index) =>
      manager.acquire(tenant, priority).then(
        (release) => {
          running += 1;
          maxRunning = Math.max(maxRunning, running, manager.stats(tenant).active);
          started.push(index);
          timers.setTimeout(() => {
            running -= 1;
            release();
            outcomes[index] = 'completed';
          }, 3_000);
        },
        (error: unknown) => {
          expectStreamsBusy(error);
          outcomes[index] = 'rejected';
        },
      ),
    );
    await flush();
    expect(manager.stats(tenant)).toEqual({ active: 5, queued: 15 });
    for (let t = 0; t < 20; t += 1) {
      timers.advance(1_000);
      await flush();
      expect(manager.stats(tenant).active).toBeLessThanOrEqual(5);
    }
    await Promise.all(requests);
    expect(maxRunning).toBe(5);
    expect(outcomes.filter(Boolean)).toHaveLength(20);
    // The first five start at once; the queued rest start best priority first, then first come.
    const rank = { high: 0, normal: 1, low: 2 };
    const queued = started.slice(5);
    expect(queued).toEqual([...queued].sort((a, b) => rank[priorities[a]!] - rank[priorities[b]!] || a - b));
    // Two rounds of five start from the queue before 7 s; the five worst waiters are refused.
    expect(outcomes.filter((o) => o === 'rejected')).toHaveLength(5);
    const refused = outcomes.flatMap((o, index) => (o === 'rejected' ? [index] : []));
    const worstStarted = Math.max(...queued.map((index) => rank[priorities[index]!]));
    for (const index of refused) expect(rank[priorities[index]!]).toBeGreaterThanOrEqual(worstStarted);
    expect(manager.stats(tenant)).toEqual({ active: 0, queued: 0 });
  });

  it('starts a high request that arrives later before normal ones already queued', async () => {
    const { manager } = setup({ maxConcurrentPerTenant: 1 });
    const order: string[] = [];
    const hold = await manager.acquire(tenant, 'normal');
    const run = (name: string, priority: StreamPriority) =>
      manager.acquire(tenant, priority).then((release) => {
        order.push(name);
        release();
      });
    const all = [run('normal-1', 'normal'), run('low-1', 'low'), run('normal-2', 'normal'), run('high-1', 'high')];
    hold();
    await Promise.all(all);
    expect(order).toEqual(['high-1', 'normal-1', 'normal-2', 'low-1']);
  });

  it('ages a waiting low request past highs that keep arriving, so low never starves', async () => {
    const runScenario = async (agingMs: number) => {
      const { timers, manager, clock } = setup({ maxConcurrentPerTenant: 1, agingMs, maxWaitMs: 600_000 });
      let lowStartedAt: number | undefined;
      const hold = await manager.acquire(tenant, 'high');
      manager.acquire(tenant, 'low').then((release) => {
        lowStartedAt = clock.now();
        timers.setTimeout(release, 250);
      });
      timers.setTimeout(hold, 250);
      // A new high request every 250 ms, each generating for 250 ms: the slot is never idle.
      for (let step = 0; step < 80 && lowStartedAt === undefined; step += 1) {
        manager.acquire(tenant, 'high').then((release) => timers.setTimeout(release, 250));
        timers.advance(250);
        await flush();
      }
      return lowStartedAt;
    };
    const aged = await runScenario(1_000);
    expect(aged).toBeDefined();
    // Rank 2 × 1 s aging: it overtakes every high that arrived after t = 2 s, so it starts within 2 s plus the queue then.
    expect(aged! - Date.UTC(2026, 0, 1)).toBeLessThanOrEqual(2_500);
    expect(await runScenario(3_600_000)).toBeUndefined();
  });

  it('reports queue positions as they change, and not once granted', async () => {
    const { manager } = setup({ maxConcurrentPerTenant: 1 });
    const hold = await manager.acquire(tenant, 'normal');
    const positions: Record<string, number[]> = { a: [], b: [], c: [] };
    const a = manager.acquire(tenant, 'normal', { onPosition: (p) => positions.a!.push(p) });
    const b = manager.acquire(tenant, 'normal', { onPosition: (p) => positions.b!.push(p) });
    const c = manager.acquire(tenant, 'high', { onPosition: (p) => positions.c!.push(p) });
    expect(positions).toEqual({ a: [1, 2], b: [2, 3], c: [1] });
    hold();
    expect(positions).toEqual({ a: [1, 2, 1], b: [2, 3, 2], c: [1] });
    (await c)();
    expect(positions).toEqual({ a: [1, 2, 1], b: [2, 3, 2, 1], c: [1] });
    (await a)();
    (await b)();
    expect(positions).toEqual({ a: [1, 2, 1], b: [2, 3, 2, 1], c: [1] });
  });

  it('removes an aborted request from the queue and moves the others up', async () => {
    const { manager, timers } = setup({ maxConcurrentPerTenant: 1 });
    const hold = await manager.acquire(tenant, 'normal');
    const controller = new AbortController();
    const positions: number[] = [];
    const aborted = manager.acquire(tenant, 'normal', { signal: controller.signal });
    const waiting = manager.acquire(tenant, 'normal', { onPosition: (p) => positions.push(p) });
    controller.abort(new Error('client went away'));
    await expect(aborted).rejects.toThrow('client went away');
    expect(positions).toEqual([2, 1]);
    expect(manager.stats(tenant)).toEqual({ active: 1, queued: 1 });
    hold();
    (await waiting)();
    expect(manager.stats(tenant)).toEqual({ active: 0, queued: 0 });
    expect(timers.pending).toBe(0);
    const already = new AbortController();
    already.abort(new Error('before'));
    await expect(manager.acquire(tenant, 'high', { signal: already.signal })).rejects.toThrow('before');
  });

  it('refuses with 429 and Retry-After after the bounded wait, estimated from how long slots are held', async () => {
    const { manager, timers } = setup({ maxConcurrentPerTenant: 2, maxWaitMs: 5_000 });
    const first = await manager.acquire(tenant, 'normal');
    timers.advance(20_000);
    first(); // one slot was held 20 s
    const holds = [await manager.acquire(tenant, 'normal'), await manager.acquire(tenant, 'normal')];
    const queued = [10_000, 10_000, 5_000].map((maxWaitMs) => manager.acquire(tenant, 'normal', { maxWaitMs }));
    timers.advance(4_999);
    expect(manager.stats(tenant).queued).toBe(3);
    timers.advance(1);
    expect(manager.stats(tenant).queued).toBe(2);
    timers.advance(5_000);
    const errors = await Promise.all(
      queued.map((p) =>
        p.then(
          () => expect.unreachable(),
          (e: unknown) => e,
        ),
      ),
    );
    // 2 slots held ~20 s each: the third left from position 3 (two rounds ahead), the others from positions 1 and 2.
    expect(errors.map((e) => expectStreamsBusy(e).extras.retryAfterSeconds)).toEqual([20, 20, 40]);
    for (const release of holds) release();
  });

  it('refuses at once when the queue is full or waiting is off, through the given error factory', async () => {
    const made: string[] = [];
    const { manager } = setup({
      maxConcurrentPerTenant: 1,
      maxQueuedPerTenant: 1,
      busyError: (details) => {
        made.push(`${details.reason}:${details.retryAfterSeconds}`);
        return new Error('busy');
      },
    });
    const hold = await manager.acquire(tenant, 'high');
    const queued = manager.acquire(tenant, 'high');
    await expect(manager.acquire(tenant, 'high')).rejects.toThrow('busy');
    await expect(manager.acquire(tenant, 'high', { maxWaitMs: 0 })).rejects.toThrow('busy');
    expect(made.map((m) => m.split(':')[0])).toEqual(['queue_full', 'timeout']);
    hold();
    (await queued)();
  });

  it('keeps tenants apart, and releasing twice frees one slot', async () => {
    const { manager } = setup({ maxConcurrentPerTenant: 1 });
    const other = asTenantId('tnt_other');
    const mine = await manager.acquire(tenant, 'low');
    const theirs = await manager.acquire(other, 'low');
    const next = manager.acquire(tenant, 'low');
    const after = manager.acquire(tenant, 'low');
    mine();
    mine();
    const release = await next;
    expect(manager.stats(tenant)).toEqual({ active: 1, queued: 1 });
    release();
    (await after)();
    theirs();
    expect(manager.stats(other)).toEqual({ active: 0, queued: 0 });
  });

  it('holds its invariants under random acquires, releases, aborts and time (30 seeds)', async () => {
    for (let seed = 1; seed <= 30; seed += 1) {
      const random = seededRandom(seed);
      const limit = 1 + Math.floor(random() * 5);
      const { manager, timers } = setup({ maxConcurrentPerTenant: limit, maxWaitMs: 2_000, agingMs: 500 });
      const held: ReleaseStream[] = [];
      const settled: boolean[] = [];
      const controllers: AbortController[] = [];
      for (let step = 0; step < 200; step += 1) {
        const roll = random();
        if (roll < 0.45) {
          const index = settled.length;
          settled.push(false);
          const controller = new AbortController();
          controllers.push(controller);
          const priority = (['high', 'normal', 'low'] as const)[Math.floor(random() * 3)]!;
          manager.acquire(tenant, priority, { signal: controller.signal }).then(
            (release) => {
              held.push(release);
              settled[index] = true;
            },
            () => {
              settled[index] = true;
            },
          );
        } else if (roll < 0.75 && held.length > 0) {
          held.splice(Math.floor(random() * held.length), 1)[0]!();
        } else if (roll < 0.8 && controllers.length > 0) {
          controllers[Math.floor(random() * controllers.length)]!.abort();
        } else {
          timers.advance(Math.floor(random() * 400));
        }
        await flush();
        const { active, queued } = manager.stats(tenant);
        expect(active).toBeLessThanOrEqual(limit);
        if (queued > 0) expect(active).toBe(limit);
      }
      while (held.length > 0 || manager.stats(tenant).queued > 0) {
        for (const release of held.splice(0)) release();
        timers.advance(100);
        await flush();
      }
      expect(settled.every(Boolean)).toBe(true);
      expect(timers.pending).toBe(0);
    }
  });

  it('refuses bad options and priorities', async () => {
    expect(() => new MultiStreamManager({ maxConcurrentPerTenant: 0 })).toThrow(TypeError);
    expect(() => new MultiStreamManager({ agingMs: 0 })).toThrow(TypeError);
    await expect(new MultiStreamManager().acquire(tenant, 'urgent' as StreamPriority)).rejects.toThrow(TypeError);
  });
});
