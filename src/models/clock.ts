import type { Clock } from '../core/clock.ts';

/**
 * Time for the model layer: the project's {@link Clock} plus timers, so word
 * pacing, timeouts, backoff and circuit cool-downs run on a fake clock in
 * tests.
 */
export interface ModelClock extends Clock {
  /** Run `fn` once after `ms` milliseconds; the returned function cancels it. */
  setTimeout(fn: () => void, ms: number): () => void;
}

/** Wall-clock time and Node timers. */
export const systemModelClock: ModelClock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/**
 * Wait `ms` on `clock` (0 or less: no timer, resolves at once); rejects with the signal's reason as soon as `signal`
 * aborts (the timer is cancelled, nothing keeps running).
 */
export function sleep(clock: ModelClock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    if (ms <= 0) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      cancel();
      reject(signal!.reason);
    };
    const cancel = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
