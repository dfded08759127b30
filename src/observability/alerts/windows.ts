/**
 * Sliding windows over the injected clock: requests in fixed-size time
 * buckets (so memory stays the same at any request rate), and rare events by
 * their timestamps.
 */

/** Upper bounds (seconds) of the latency histogram the p99 estimate is read from; the last bucket is +Inf. */
export const LATENCY_BOUNDS: readonly number[] = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

interface RequestBucket {
  start: number;
  requests: number;
  errors: number;
  slow: number;
  histogram: number[];
}

/** What a request window holds now. */
export interface RequestTotals {
  requests: number;
  /** Responses with a 5xx status. */
  errors: number;
  /** Requests slower than the window's `slowSeconds`. */
  slow: number;
  /**
   * Upper bound of the latency bucket holding the 99th percentile (nearest rank), in seconds;
   * `Infinity` when it is past the last bound, `null` with no requests.
   */
  p99UpperBound: number | null;
}

export interface RequestWindowOptions {
  windowMs: number;
  bucketMs: number;
  /** Requests slower than this count as `slow` (exactly, not by bucket). */
  slowSeconds: number;
}

/** Request counts, 5xx counts and latencies over the last `windowMs`. */
export class RequestWindow {
  readonly #o: RequestWindowOptions;
  readonly #buckets: RequestBucket[] = [];

  constructor(options: RequestWindowOptions) {
    if (!(options.bucketMs > 0) || !(options.windowMs >= options.bucketMs)) {
      throw new TypeError('RequestWindow: bucketMs must be positive and windowMs at least one bucket');
    }
    this.#o = options;
  }

  record(now: number, latencySeconds: number, serverError: boolean): void {
    const start = now - (now % this.#o.bucketMs);
    let bucket = this.#buckets.at(-1);
    if (bucket === undefined || bucket.start < start) {
      bucket = { start, requests: 0, errors: 0, slow: 0, histogram: new Array(LATENCY_BOUNDS.length + 1).fill(0) };
      this.#buckets.push(bucket);
    }
    this.#prune(now);
    bucket.requests += 1;
    if (serverError) bucket.errors += 1;
    if (latencySeconds > this.#o.slowSeconds) bucket.slow += 1;
    const index = LATENCY_BOUNDS.findIndex((bound) => latencySeconds <= bound);
    bucket.histogram[index === -1 ? LATENCY_BOUNDS.length : index]! += 1;
  }

  totals(now: number): RequestTotals {
    this.#prune(now);
    const histogram = new Array<number>(LATENCY_BOUNDS.length + 1).fill(0);
    let requests = 0;
    let errors = 0;
    let slow = 0;
    for (const bucket of this.#buckets) {
      requests += bucket.requests;
      errors += bucket.errors;
      slow += bucket.slow;
      bucket.histogram.forEach((count, i) => {
        histogram[i]! += count;
      });
    }
    return { requests, errors, slow, p99UpperBound: percentileBound(histogram, requests, 0.99) };
  }

  #prune(now: number): void {
    const oldest = now - this.#o.windowMs;
    while (this.#buckets.length > 0 && this.#buckets[0]!.start + this.#o.bucketMs <= oldest) this.#buckets.shift();
  }
}

function percentileBound(histogram: number[], total: number, quantile: number): number | null {
  if (total === 0) return null;
  const rank = Math.ceil(quantile * total);
  let cumulative = 0;
  for (let i = 0; i < histogram.length; i++) {
    cumulative += histogram[i]!;
    if (cumulative >= rank) return LATENCY_BOUNDS[i] ?? Number.POSITIVE_INFINITY;
  }
  return Number.POSITIVE_INFINITY;
}

/** Timestamps of rare events (signing failures, corruption, reuse), kept for the longest window asked for. */
export class EventWindow {
  readonly #keepMs: number;
  readonly #limit: number;
  readonly #at: number[] = [];

  constructor(options: { keepMs: number; limit?: number }) {
    this.#keepMs = options.keepMs;
    this.#limit = options.limit ?? 10_000;
  }

  record(now: number): void {
    this.#at.push(now);
    if (this.#at.length > this.#limit) this.#at.shift();
    this.#prune(now);
  }

  /** Events within the last `windowMs`. */
  count(now: number, windowMs: number): number {
    this.#prune(now);
    let n = 0;
    for (let i = this.#at.length - 1; i >= 0 && this.#at[i]! > now - windowMs; i--) n++;
    return n;
  }

  #prune(now: number): void {
    while (this.#at.length > 0 && this.#at[0]! <= now - this.#keepMs) this.#at.shift();
  }
}
