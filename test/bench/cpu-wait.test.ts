import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { openCpuWaitClock } from '../../bench/lib/cpu-wait.ts';

/** Keep every core busy from other threads for `ms`, while this thread spins too: more runnable threads than cores. */
async function crowd(ms: number): Promise<void> {
  const spin = `const end = Date.now() + ${ms}; while (Date.now() < end);`;
  const workers = Array.from({ length: availableParallelism() }, () => new Worker(spin, { eval: true }));
  const exited = workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
  await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('online', resolve))));
  const end = Date.now() + ms;
  while (Date.now() < end);
  await Promise.all(exited);
}

// Linux only, and only where the kernel keeps per-thread scheduler figures (elsewhere the bench leaves the wait out).
describe.skipIf(!existsSync('/proc/thread-self/schedstat'))('the CPU wait clock', () => {
  it('reads a count that never goes back', () => {
    const clock = openCpuWaitClock();
    expect(clock).toBeDefined();
    let last = clock!.read();
    expect(Number.isFinite(last) && last >= 0).toBe(true);
    for (let i = 0; i < 1000; i++) {
      const now = clock!.read();
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
    }
    clock!.close();
  });

  it("is the kernel's run-queue delay for this thread, in ms", () => {
    const clock = openCpuWaitClock()!;
    const before = clock.read();
    const [, waitNs] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    const after = clock.read();
    clock.close();
    expect(Number(waitNs) / 1e6).toBeGreaterThanOrEqual(before);
    expect(Number(waitNs) / 1e6).toBeLessThanOrEqual(after);
  });

  it('counts the time this thread waits while other threads hold every core', async () => {
    const clock = openCpuWaitClock()!;
    const before = clock.read();
    await crowd(400);
    const waited = clock.read() - before;
    clock.close();
    // One more runnable thread than cores for 400 ms: the scheduler shares the cores, so this thread waits for a
    // good part of that time (about a third with fair shares); 20 ms is far below any fair share.
    expect(waited).toBeGreaterThan(20);
  });
});
