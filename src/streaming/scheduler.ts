import { type Clock, systemClock } from '../core/clock.ts';
import type { TenantId } from '../core/types.ts';
import { AppError, ERROR_CODES, type ErrorCode } from '../errors/index.ts';
import { systemTimers, type TimerHandle, type Timers } from './timers.ts';

/** Priority of a generation request. */
export type StreamPriority = 'high' | 'normal' | 'low';
/** The priorities, best first. */
export const STREAM_PRIORITIES: readonly StreamPriority[] = ['high', 'normal', 'low'];
const RANK: Record<StreamPriority, number> = { high: 0, normal: 1, low: 2 };

/** Why a request was turned away; passed to the `busyError` factory. */
export interface StreamsBusyDetails {
  tenantId: TenantId;
  /** `timeout`: waited `maxWaitMs` without a slot; `queue_full`: the queue was at its bound. */
  reason: 'timeout' | 'queue_full';
  /** Suggested `Retry-After`, in whole seconds (at least 1). */
  retryAfterSeconds: number;
  /** How long the request waited, in ms. */
  waitedMs: number;
}

/** Options of {@link MultiStreamManager}. */
export interface MultiStreamManagerOptions {
  /** Concurrent generations per tenant (`CONTINUUM_MAX_STREAMS_PER_TENANT`). Default 5. */
  maxConcurrentPerTenant?: number;
  /** Longest wait in the queue before `streams_busy`; `0` never queues. Default 30 000 ms. */
  maxWaitMs?: number;
  /**
   * Aging: each `agingMs` of waiting raises a request by one priority level,
   * so a low request overtakes newly arriving high ones after `2 × agingMs`.
   * Default 5 000 ms.
   */
  agingMs?: number;
  /** Requests queued per tenant; more are refused at once. Default 100. */
  maxQueuedPerTenant?: number;
  clock?: Clock;
  timers?: Timers;
  /** Builds the rejection error. Default: `AppError` `streams_busy` (429) with `Retry-After`. */
  busyError?: (details: StreamsBusyDetails) => Error;
}

/** Options of {@link MultiStreamManager.acquire}. */
export interface AcquireStreamOptions {
  /** Aborting while queued leaves the queue and rejects with `signal.reason`. No effect once granted. */
  signal?: AbortSignal;
  /** Overrides the manager's `maxWaitMs` for this request. */
  maxWaitMs?: number;
  /** Called with the 1-based queue position on entering the queue and whenever it changes (not once granted). */
  onPosition?: (position: number) => void;
}

/** Gives a generation slot back. Idempotent; must be called exactly when the generation ends. */
export type ReleaseStream = () => void;

/** What the reply service needs of a stream scheduler: this node's, or one that also holds the limit across nodes. */
export interface StreamScheduler {
  acquire(tenantId: TenantId, priority: StreamPriority, options?: AcquireStreamOptions): Promise<ReleaseStream>;
}

interface Waiter {
  tenantId: TenantId;
  /** Sort key: rank × agingMs + enqueue time. Two waiters age at the same rate, so keys never need updating. */
  key: number;
  enqueuedAt: number;
  position: number;
  resolve: (release: ReleaseStream) => void;
  reject: (error: unknown) => void;
  timer: TimerHandle | undefined;
  onPosition: ((position: number) => void) | undefined;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

interface TenantState {
  active: number;
  queue: Waiter[];
}

const STREAMS_BUSY = 'streams_busy';

/**
 * The default rejection. Until `streams_busy` (429) is in the error-code
 * table, falls back to `rate_limited` (also 429) with `reason: streams_busy`.
 */
export function defaultStreamsBusyError(details: StreamsBusyDetails): Error {
  const seconds = details.retryAfterSeconds;
  const detail =
    details.reason === 'queue_full'
      ? `Too many replies are waiting for this tenant; retry in ${seconds} s`
      : `No reply slot became free in time for this tenant; retry in ${seconds} s`;
  const headers = { 'Retry-After': String(seconds) };
  if (STREAMS_BUSY in ERROR_CODES) {
    return new AppError(STREAMS_BUSY as ErrorCode, detail, { extras: { retryAfterSeconds: seconds }, headers });
  }
  return new AppError('rate_limited', detail, {
    extras: { retryAfterSeconds: seconds, reason: STREAMS_BUSY },
    headers,
  });
}

/**
 * The stream scheduler (ADR-005): at most N concurrent generations per
 * tenant, and a priority queue (high, normal, low) with aging in front of
 * them. A freed slot goes to the waiter with the best effective priority
 * (ties: first come); a request that waits past `maxWaitMs`, or finds the
 * queue full, is rejected with a `streams_busy` error carrying
 * `retryAfterSeconds`. Limits are per node.
 *
 * @example
 * const release = await streams.acquire(tenantId, 'normal', {
 *   signal, onPosition: (n) => write(formatComment(`queue position ${n}`)),
 * });
 * try { await generate(); } finally { release(); }
 */
export class MultiStreamManager {
  readonly #limit: number;
  readonly #maxWaitMs: number;
  readonly #agingMs: number;
  readonly #maxQueued: number;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #busyError: (details: StreamsBusyDetails) => Error;
  readonly #tenants = new Map<TenantId, TenantState>();
  /** Moving average of how long a slot is held, for `Retry-After`. */
  #avgHoldMs: number | undefined;

  constructor(options: MultiStreamManagerOptions = {}) {
    this.#limit = options.maxConcurrentPerTenant ?? 5;
    this.#maxWaitMs = options.maxWaitMs ?? 30_000;
    this.#agingMs = options.agingMs ?? 5_000;
    this.#maxQueued = options.maxQueuedPerTenant ?? 100;
    if (!Number.isSafeInteger(this.#limit) || this.#limit < 1) {
      throw new TypeError('maxConcurrentPerTenant must be a positive integer (CONTINUUM_MAX_STREAMS_PER_TENANT)');
    }
    if (!(this.#maxWaitMs >= 0)) throw new TypeError('maxWaitMs must be >= 0');
    if (!(this.#agingMs > 0) || !Number.isFinite(this.#agingMs)) throw new TypeError('agingMs must be positive');
    if (!Number.isSafeInteger(this.#maxQueued) || this.#maxQueued < 0) {
      throw new TypeError('maxQueuedPerTenant must be a non-negative integer');
    }
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
    this.#busyError = options.busyError ?? defaultStreamsBusyError;
  }

  /**
   * Waits for a generation slot of `tenantId`. Resolves with the function
   * that gives it back; rejects with the busy error past the wait bound or
   * when the queue is full, or with `signal.reason` when aborted while queued.
   *
   * @throws TypeError (as a rejection) for an unknown priority.
   */
  acquire(tenantId: TenantId, priority: StreamPriority, options: AcquireStreamOptions = {}): Promise<ReleaseStream> {
    if (!Object.hasOwn(RANK, priority)) {
      return Promise.reject(new TypeError(`priority must be one of ${STREAM_PRIORITIES.join(', ')}`));
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const state = this.#tenants.get(tenantId) ?? { active: 0, queue: [] };
    this.#tenants.set(tenantId, state);
    if (state.active < this.#limit && state.queue.length === 0) {
      state.active += 1;
      return Promise.resolve(this.#release(tenantId, state));
    }
    const maxWaitMs = options.maxWaitMs ?? this.#maxWaitMs;
    const now = this.#clock.now();
    if (maxWaitMs <= 0 || state.queue.length >= this.#maxQueued) {
      const reason = maxWaitMs <= 0 ? 'timeout' : 'queue_full';
      return Promise.reject(this.#busy(tenantId, reason, state.queue.length + 1, 0));
    }
    return new Promise<ReleaseStream>((resolve, reject) => {
      const waiter: Waiter = {
        tenantId,
        key: RANK[priority] * this.#agingMs + now,
        enqueuedAt: now,
        position: 0,
        resolve,
        reject,
        timer: undefined,
        onPosition: options.onPosition,
        signal,
        onAbort: () => this.#leave(state, waiter, signal?.reason),
      };
      waiter.timer = this.#timers.setTimeout(() => {
        waiter.timer = undefined;
        const waited = this.#clock.now() - waiter.enqueuedAt;
        this.#leave(state, waiter, this.#busy(tenantId, 'timeout', waiter.position, waited));
      }, maxWaitMs);
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      // Insert after every waiter whose key is lower or equal: first come first served within a key.
      let lo = 0;
      let hi = state.queue.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (state.queue[mid]!.key <= waiter.key) lo = mid + 1;
        else hi = mid;
      }
      state.queue.splice(lo, 0, waiter);
      this.#reportPositions(state);
    });
  }

  /** Generations running and requests queued for a tenant, on this node. */
  stats(tenantId: TenantId): { active: number; queued: number } {
    const state = this.#tenants.get(tenantId);
    return { active: state?.active ?? 0, queued: state?.queue.length ?? 0 };
  }

  #release(tenantId: TenantId, state: TenantState): ReleaseStream {
    const startedAt = this.#clock.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const held = this.#clock.now() - startedAt;
      this.#avgHoldMs = this.#avgHoldMs === undefined ? held : this.#avgHoldMs * 0.8 + held * 0.2;
      state.active -= 1;
      this.#grant(tenantId, state);
    };
  }

  #grant(tenantId: TenantId, state: TenantState): void {
    let granted = false;
    while (state.active < this.#limit && state.queue.length > 0) {
      const waiter = state.queue.shift()!;
      this.#detach(waiter);
      state.active += 1;
      granted = true;
      waiter.resolve(this.#release(tenantId, state));
    }
    if (granted) this.#reportPositions(state);
    this.#forgetIfIdle(tenantId, state);
  }

  #leave(state: TenantState, waiter: Waiter, error: unknown): void {
    const index = state.queue.indexOf(waiter);
    if (index < 0) return;
    state.queue.splice(index, 1);
    this.#detach(waiter);
    waiter.reject(error);
    this.#reportPositions(state);
    this.#forgetIfIdle(waiter.tenantId, state);
  }

  #detach(waiter: Waiter): void {
    if (waiter.timer !== undefined) this.#timers.clearTimeout(waiter.timer);
    waiter.timer = undefined;
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }

  #reportPositions(state: TenantState): void {
    state.queue.forEach((waiter, index) => {
      if (waiter.position === index + 1) return;
      waiter.position = index + 1;
      try {
        waiter.onPosition?.(index + 1);
      } catch {
        // A failing progress callback (e.g. a closed socket) must not break the queue.
      }
    });
  }

  #forgetIfIdle(tenantId: TenantId, state: TenantState): void {
    if (state.active === 0 && state.queue.length === 0 && this.#tenants.get(tenantId) === state) {
      this.#tenants.delete(tenantId);
    }
  }

  #busy(tenantId: TenantId, reason: StreamsBusyDetails['reason'], position: number, waitedMs: number): Error {
    // Expected wait: the rounds of generations ahead of this request, each about one average hold.
    const holdMs = this.#avgHoldMs ?? this.#maxWaitMs;
    const rounds = Math.max(1, Math.ceil(position / this.#limit));
    const retryAfterSeconds = Math.min(3_600, Math.max(1, Math.ceil((holdMs * rounds) / 1000)));
    return this.#busyError({ tenantId, reason, retryAfterSeconds, waitedMs });
  }
}
