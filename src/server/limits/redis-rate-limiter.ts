import type { Clock } from '../../core/clock.ts';
import { type RateLimiter, rateLimited, TokenBucketLimiter } from '../rate-limiter.ts';
import type { RedisAttempt } from './fallback.ts';
import type { LimitScripts } from './scripts.ts';

export interface RedisRateLimiterOptions {
  attempt: RedisAttempt;
  scripts: LimitScripts;
  /** Key prefix of this limiter's buckets, e.g. `continuum:rate:tenant:`. */
  keyPrefix: string;
  /** Names the limiter in fallback reports, e.g. `tenant`. */
  name: string;
  clock: Clock;
  /** Sustained requests per second; bursts up to twice that; 0 turns the limit off. */
  ratePerSecond: number;
  /** How long a bucket's key outlives the moment it is full again (default 60 s). */
  lingerMs?: number;
}

/**
 * Token buckets shared by every node through Redis, with the semantics of
 * {@link TokenBucketLimiter}: one Lua script refills and takes atomically,
 * so concurrent nodes spend one budget. Time comes from the injected clock
 * (each node's own, kept close by NTP; a node whose clock lags never takes
 * refill back). When Redis does not answer, this node's own buckets decide
 * that request.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #o: RedisRateLimiterOptions;
  readonly #local: TokenBucketLimiter;
  readonly #lingerMs: number;

  constructor(options: RedisRateLimiterOptions) {
    if (!(options.ratePerSecond >= 0)) throw new TypeError('RedisRateLimiter: ratePerSecond must be >= 0');
    this.#o = options;
    this.#lingerMs = options.lingerMs ?? 60_000;
    this.#local = new TokenBucketLimiter({ clock: options.clock, ratePerSecond: options.ratePerSecond });
  }

  get enabled(): boolean {
    return this.#o.ratePerSecond > 0;
  }

  async take(key: string, what: string): Promise<void> {
    if (!this.enabled) return;
    const { ratePerSecond: rate, clock, keyPrefix } = this.#o;
    const waitMs = await this.#o.attempt.run(`rate_limit:${this.#o.name}`, () =>
      this.#o.scripts.takeToken(`${keyPrefix}${key}`, clock.now(), rate, rate * 2, this.#lingerMs),
    );
    if (waitMs === undefined) return this.#local.take(key, what);
    if (waitMs > 0) throw rateLimited(what, waitMs / 1000);
  }
}
