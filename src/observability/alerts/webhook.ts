import { systemTimers, type TimerHandle, type Timers } from '../../streaming/timers.ts';

/** How one delivery attempt (or the whole delivery) ended. */
export type WebhookOutcome = 'delivered' | 'retried' | 'failed' | 'dropped';

export interface AlertWebhookOptions {
  /** Where alerts are POSTed (`CONTINUUM_ALERT_WEBHOOK`). */
  url: string;
  /** Bound on one attempt, in ms (default 5 000). */
  timeoutMs?: number;
  /** Attempts per alert before it is given up (default 8). */
  maxAttempts?: number;
  /** Wait before the first retry, doubled after each failure (default 1 000 ms)... */
  baseDelayMs?: number;
  /** ...up to this (default 60 000 ms). */
  maxDelayMs?: number;
  /** Alerts waiting at most; a new one past this drops the oldest waiting (default 100). */
  maxQueue?: number;
  timers?: Timers;
  /** Told of each outcome, with a reason for the failed ones. */
  onOutcome?: (outcome: WebhookOutcome, reason?: string) => void;
}

interface Delivery {
  body: string;
  attempts: number;
}

/**
 * Delivers alert changes to a webhook as JSON POSTs, one at a time and in
 * order (a receiver sees an alert fire before it resolves), retrying a
 * failure (a non-2xx answer, a refused connection, a timeout) with
 * exponential backoff. `send` only queues: a request that raised an alert
 * never waits for the receiver. The queue is bounded; when it is full, the
 * oldest waiting alert is dropped.
 *
 * @example
 * const hook = new AlertWebhook({ url: 'https://ops.example/hooks/continuum' });
 * hook.send({ event: 'alert.firing', alert });
 */
export class AlertWebhook {
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #maxQueue: number;
  readonly #timers: Timers;
  readonly #onOutcome: AlertWebhookOptions['onOutcome'];
  readonly #queue: Delivery[] = [];
  #current: Promise<void> | undefined;
  #retryTimer: TimerHandle | undefined;
  #closed = false;

  constructor(options: AlertWebhookOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError('AlertWebhook: the URL must be http: or https:');
    }
    this.#url = url.href;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#maxAttempts = options.maxAttempts ?? 8;
    this.#baseDelayMs = options.baseDelayMs ?? 1_000;
    this.#maxDelayMs = options.maxDelayMs ?? 60_000;
    this.#maxQueue = options.maxQueue ?? 100;
    if (this.#maxAttempts < 1 || this.#maxQueue < 1) throw new TypeError('AlertWebhook: maxAttempts and maxQueue >= 1');
    this.#timers = options.timers ?? systemTimers;
    this.#onOutcome = options.onOutcome;
  }

  /** Deliveries waiting or in flight. */
  get pending(): number {
    return this.#queue.length + (this.#current === undefined ? 0 : 1);
  }

  /** Queue `payload` for delivery; returns at once. */
  send(payload: unknown): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#maxQueue) {
      this.#queue.shift();
      this.#report('dropped', 'queue full');
    }
    this.#queue.push({ body: JSON.stringify(payload), attempts: 0 });
    this.#pump();
  }

  /** Stop retrying and wait for the attempt in flight (bounded by the attempt timeout). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retryTimer !== undefined) this.#timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    await this.#current;
  }

  #pump(): void {
    if (this.#closed || this.#current !== undefined || this.#retryTimer !== undefined) return;
    const next = this.#queue.shift();
    if (next === undefined) return;
    this.#current = this.#attempt(next).finally(() => {
      this.#current = undefined;
      this.#pump();
    });
  }

  async #attempt(delivery: Delivery): Promise<void> {
    delivery.attempts += 1;
    let reason: string | undefined;
    try {
      const res = await fetch(this.#url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'continuum-alerts' },
        body: delivery.body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) reason = `HTTP ${res.status}`;
    } catch (error) {
      reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : 'error';
    }
    if (reason === undefined) return this.#report('delivered');
    if (this.#closed || delivery.attempts >= this.#maxAttempts) return this.#report('failed', reason);
    this.#report('retried', reason);
    this.#queue.unshift(delivery);
    const delay = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (delivery.attempts - 1));
    this.#retryTimer = this.#timers.setTimeout(() => {
      this.#retryTimer = undefined;
      this.#pump();
    }, delay);
  }

  #report(outcome: WebhookOutcome, reason?: string): void {
    try {
      this.#onOutcome?.(outcome, reason);
    } catch {
      // Reporting must never break delivery.
    }
  }
}
