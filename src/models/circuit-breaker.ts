import type { Clock } from '../core/clock.ts';

/** `closed`: calls go through. `open`: they fail fast. `half-open`: one trial call decides. */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failed calls that open the circuit (default 5). */
  failureThreshold?: number;
  /** How long it stays open before one trial call is let through, in ms (default 30,000). */
  cooldownMs?: number;
  clock?: Clock;
}

/** A snapshot for health checks and metrics. */
export interface CircuitSnapshot {
  state: CircuitState;
  consecutiveFailures: number;
  /** When an open circuit lets a trial call through (epoch ms); undefined unless open. */
  retryAt: number | undefined;
}

/**
 * A consecutive-failure circuit breaker. Call {@link tryAcquire} before a
 * call; report its end with {@link succeed}, {@link fail} or, for a call
 * that ended without a verdict (the caller aborted), {@link release}.
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #clock: Clock;
  #failures = 0;
  #openedAt: number | undefined;
  #trialInFlight = false;

  constructor(options: CircuitBreakerOptions = {}) {
    this.#threshold = options.failureThreshold ?? 5;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#clock = options.clock ?? { now: () => Date.now() };
    if (!Number.isInteger(this.#threshold) || this.#threshold < 1) {
      throw new TypeError(`failureThreshold must be a positive integer (got ${String(this.#threshold)})`);
    }
    if (!Number.isFinite(this.#cooldownMs) || this.#cooldownMs < 0) {
      throw new TypeError(`cooldownMs must be a non-negative number (got ${String(this.#cooldownMs)})`);
    }
  }

  get state(): CircuitState {
    if (this.#openedAt === undefined) return 'closed';
    return this.#clock.now() - this.#openedAt >= this.#cooldownMs ? 'half-open' : 'open';
  }

  snapshot(): CircuitSnapshot {
    const state = this.state;
    return {
      state,
      consecutiveFailures: this.#failures,
      retryAt: state === 'open' ? this.#openedAt! + this.#cooldownMs : undefined,
    };
  }

  /**
   * May a call start now? Closed: yes. Open: no. Half-open: yes for one
   * trial call at a time, whose outcome closes or re-opens the circuit.
   * Returns a token for {@link succeed}/{@link fail}/{@link release}, or
   * `undefined` when the call must fail fast.
   */
  tryAcquire(): { trial: boolean } | undefined {
    const state = this.state;
    if (state === 'closed') return { trial: false };
    if (state === 'open' || this.#trialInFlight) return undefined;
    this.#trialInFlight = true;
    return { trial: true };
  }

  succeed(token: { trial: boolean }): void {
    if (token.trial) this.#trialInFlight = false;
    this.#failures = 0;
    this.#openedAt = undefined;
  }

  fail(token: { trial: boolean }): void {
    if (token.trial) this.#trialInFlight = false;
    this.#failures++;
    if (token.trial || this.#failures >= this.#threshold) this.#openedAt = this.#clock.now();
  }

  release(token: { trial: boolean }): void {
    if (token.trial) this.#trialInFlight = false;
  }
}
