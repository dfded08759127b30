import type { Clock } from '../core/clock.ts';
import { AppError } from '../errors/index.ts';

/**
 * A rate limit the HTTP layer applies per key (a tenant, a subject):
 * `ratePerSecond` sustained, bursts up to twice that.
 */
export interface RateLimiter {
  /** False when the rate is 0: `take` then always passes. */
  readonly enabled: boolean;
  /** Take one token for `key`, or reject with `rate_limited` and a Retry-After (`what` names the key in the message). */
  take(key: string, what: string): Promise<void>;
}

/** The `rate_limited` error, with Retry-After in whole seconds (at least 1). */
export function rateLimited(what: string, retryAfterSeconds: number): AppError {
  const retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
  return new AppError('rate_limited', `Too many requests for this ${what}; slow down`, {
    headers: { 'retry-after': String(retryAfter) },
    extras: { retryAfter },
  });
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets held by this node: `ratePerSecond` sustained, bursts up to
 * twice that. A rate of 0 turns the limiter off.
 */
export class TokenBucketLimiter implements RateLimiter {
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

  async take(key: string, what: string): Promise<void> {
    if (this.#rate === 0) return;
    const now = this.#clock.now();
    let bucket = this.#buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(
        this.#capacity,
        bucket.tokens + (Math.max(0, now - bucket.updatedAt) / 1000) * this.#rate,
      );
      bucket.updatedAt = Math.max(bucket.updatedAt, now);
    } else {
      if (this.#buckets.size >= this.#maxBuckets) this.#sweep(now);
      bucket = { tokens: this.#capacity, updatedAt: now };
      this.#buckets.set(key, bucket);
    }
    if (bucket.tokens < 1) throw rateLimited(what, (1 - bucket.tokens) / this.#rate);
    bucket.tokens -= 1;
  }

  /** Drop buckets that have refilled: they hold no information. */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.#rate >= this.#capacity) this.#buckets.delete(key);
    }
  }
}
