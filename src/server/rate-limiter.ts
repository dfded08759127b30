import type { Clock } from '../core/clock.ts';
import { AppError } from '../errors/index.ts';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets: `ratePerSecond` sustained, bursts up to twice that.
 * A rate of 0 turns the limiter off.
 */
export class TokenBucketLimiter {
  readonly #clock: Clock;
  readonly #rate: number;
  readonly #capacity: number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxBuckets: number;

  constructor(options: { clock: Clock; ratePerSecond: number; maxBuckets?: number }) {
    if (!(options.ratePerSecond >= 0)) throw new TypeError('TokenBucketLimiter: ratePerSecond must be >= 0');
    this.#clock = options.clock;
    this.#rate = options.ratePerSecond;
    this.#capacity = options.ratePerSecond * 2;
    this.#maxBuckets = options.maxBuckets ?? 100_000;
  }

  get enabled(): boolean {
    return this.#rate > 0;
  }

  /** Take one token for `key` or throw `rate_limited` with Retry-After. */
  take(key: string, what: string): void {
    if (this.#rate === 0) return;
    const now = this.#clock.now();
    let bucket = this.#buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(this.#capacity, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.#rate);
      bucket.updatedAt = now;
    } else {
      if (this.#buckets.size >= this.#maxBuckets) this.#sweep(now);
      bucket = { tokens: this.#capacity, updatedAt: now };
      this.#buckets.set(key, bucket);
    }
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate));
      throw new AppError('rate_limited', `Too many requests for this ${what}; slow down`, {
        headers: { 'retry-after': String(retryAfter) },
        extras: { retryAfter },
      });
    }
    bucket.tokens -= 1;
  }

  /** Drop buckets that have refilled: they hold no information. */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.#rate >= this.#capacity) this.#buckets.delete(key);
    }
  }
}
