/**
 * Deadlines, retries and a circuit breaker around any `ModelProvider`.
 */
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitSnapshot } from './circuit-breaker.ts';
import { type ModelClock, sleep, systemModelClock } from './clock.ts';
import { checkRequest, streamGeneration } from './generation.ts';
import {
  type GenerateRequest,
  type Generation,
  type GenerationResult,
  ModelError,
  type ModelProvider,
} from './port.ts';

export interface ResilienceOptions {
  /** Longest wait for the first delta of each attempt, in ms (default 30,000). */
  firstTokenTimeoutMs?: number;
  /** Longest whole call, retries and backoff included, in ms (default 120,000). */
  totalTimeoutMs?: number;
  /** Further attempts after a retryable failure before the first delta (default 2, at most 5). */
  maxRetries?: number;
  /** Backoff before retry n (0-based) is `min(max, base · 2^n)`, scaled by a random factor in [0.5, 1) (default 250 ms). */
  backoffBaseMs?: number;
  /** Default 4,000 ms. */
  backoffMaxMs?: number;
  /** The breaker of this provider: consecutive failed calls that open it, and its cool-down. */
  circuit?: Pick<CircuitBreakerOptions, 'failureThreshold' | 'cooldownMs'>;
  /** Bound on `probe`, in ms (default 5,000). */
  probeTimeoutMs?: number;
  clock?: ModelClock;
  /** Jitter source in [0, 1) (default `Math.random`). */
  random?: () => number;
}

type Token = NonNullable<ReturnType<CircuitBreaker['tryAcquire']>>;

/** One call to `generate`: its total deadline and the attempt it would abort. */
interface CallState {
  totalFired: boolean;
  current: AbortController | undefined;
}

/** One try at the inner provider. */
interface Attempt {
  token: Token;
  generation: Generation;
  firstTimedOut: boolean;
  cancelFirst: () => void;
  detach: () => void;
}

/** A provider behind deadlines, retries and a circuit breaker. */
export interface ResilientModelProvider extends ModelProvider {
  /** The wrapped adapter. */
  readonly inner: ModelProvider;
  /** The breaker's state, for health checks and metrics. */
  circuit(): CircuitSnapshot;
}

/**
 * Wrap a provider:
 * - deadlines: no first delta within `firstTokenTimeoutMs` (per attempt) or
 *   no end within `totalTimeoutMs` (per call) aborts the attempt and fails
 *   it with a retryable `ModelError`;
 * - retries: a retryable failure before the first delta is tried again, up
 *   to `maxRetries` times, after exponential backoff with jitter — never
 *   after a delta went out (the reader would see text twice) and never past
 *   the total deadline;
 * - a circuit breaker: after `failureThreshold` consecutive failed calls the
 *   provider is skipped, every call failing at once with a non-retryable
 *   `ModelError` ("circuit open"), until `cooldownMs` passes and one trial
 *   call decides. Failures that are answers about the request (a 400, a 401)
 *   prove the provider is up and do not count.
 * The caller's abort is passed through: the result resolves with
 * `stopReason: 'aborted'`, nothing is retried.
 *
 * @example
 * const model = withResilience(createAnthropicProvider({ apiKey }), { firstTokenTimeoutMs: 20_000 });
 */
export function withResilience(inner: ModelProvider, options: ResilienceOptions = {}): ResilientModelProvider {
  const firstTokenTimeoutMs = positive('firstTokenTimeoutMs', options.firstTokenTimeoutMs ?? 30_000);
  const totalTimeoutMs = positive('totalTimeoutMs', options.totalTimeoutMs ?? 120_000);
  const probeTimeoutMs = positive('probeTimeoutMs', options.probeTimeoutMs ?? 5_000);
  const maxRetries = options.maxRetries ?? 2;
  if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 5) {
    throw new TypeError(`maxRetries must be a whole number from 0 to 5 (got ${String(maxRetries)})`);
  }
  const backoffBaseMs = options.backoffBaseMs ?? 250;
  const backoffMaxMs = options.backoffMaxMs ?? 4_000;
  if (!(backoffBaseMs >= 0) || !(backoffMaxMs >= backoffBaseMs)) {
    throw new TypeError('backoffBaseMs must be ≥ 0 and backoffMaxMs ≥ backoffBaseMs');
  }
  const clock = options.clock ?? systemModelClock;
  const random = options.random ?? Math.random;
  const breaker = new CircuitBreaker({ ...options.circuit, clock });
  const kind = inner.kind;

  const backoff = (retry: number): number => Math.min(backoffMaxMs, backoffBaseMs * 2 ** retry) * (0.5 + random() / 2);

  const circuitOpen = (last: ModelError | undefined): ModelError => {
    const { consecutiveFailures, retryAt } = breaker.snapshot();
    const when = retryAt === undefined ? 'after the trial call in flight' : `at ${new Date(retryAt).toISOString()}`;
    return new ModelError(
      kind,
      `${kind}: circuit open after ${consecutiveFailures} consecutive failures; next try ${when}`,
      { retryable: false, ...(last ? { cause: last } : {}) },
    );
  };

  /** Start one attempt: its own abort controller (linked to the caller's), its first-token deadline, the inner call. */
  function startAttempt(request: GenerateRequest, call: CallState, token: Token): Attempt {
    const controller = new AbortController();
    call.current = controller;
    const onCallerAbort = (): void => controller.abort(request.signal.reason);
    request.signal.addEventListener('abort', onCallerAbort, { once: true });
    if (request.signal.aborted || call.totalFired) controller.abort();
    const detach = (): void => request.signal.removeEventListener('abort', onCallerAbort);
    let generation: Generation;
    try {
      generation = inner.generate({ ...request, signal: controller.signal });
    } catch (error) {
      detach();
      throw error;
    }
    const state: Attempt = { token, generation, firstTimedOut: false, cancelFirst: () => {}, detach };
    state.cancelFirst = clock.setTimeout(() => {
      state.firstTimedOut = true;
      controller.abort(new Error('first-token deadline'));
    }, firstTokenTimeoutMs);
    return state;
  }

  /** Relay an attempt's deltas and settle it. */
  async function finishAttempt(
    request: GenerateRequest,
    attempt: Attempt,
    call: CallState,
    emit: (text: string) => void,
  ): Promise<{ result: GenerationResult } | { error: unknown; gotDelta: boolean; timedOut: boolean }> {
    let gotDelta = false;
    const timedOut = (): boolean => !request.signal.aborted && (attempt.firstTimedOut || call.totalFired);
    try {
      for await (const delta of attempt.generation.deltas) {
        if (!gotDelta) {
          gotDelta = true;
          attempt.cancelFirst();
        }
        emit(delta);
      }
      const result = await attempt.generation.result;
      if (result.stopReason === 'aborted' && timedOut()) return { error: undefined, gotDelta, timedOut: true };
      return { result };
    } catch (error) {
      return { error, gotDelta, timedOut: timedOut() };
    } finally {
      attempt.cancelFirst();
      attempt.detach();
    }
  }

  return {
    kind,
    inner,
    circuit: () => breaker.snapshot(),
    generate(request: GenerateRequest): Generation {
      checkRequest(request);
      const call: CallState = { totalFired: false, current: undefined };
      const deadline = clock.now() + totalTimeoutMs;
      const cancelTotal = clock.setTimeout(() => {
        call.totalFired = true;
        call.current?.abort(new Error('total deadline'));
      }, totalTimeoutMs);
      // The first attempt starts now, so a misuse the adapter detects throws here and no time is lost.
      const firstToken = breaker.tryAcquire();
      let first: Attempt | undefined;
      if (firstToken) {
        try {
          first = startAttempt(request, call, firstToken);
        } catch (error) {
          breaker.release(firstToken);
          cancelTotal();
          throw error;
        }
      }
      return streamGeneration({
        provider: kind,
        request,
        model: kind === 'local' ? 'continuum-local' : kind,
        offline: kind === 'local',
        toModelError: (error) => toModelError(kind, error),
        async run(sink) {
          let last: ModelError | undefined;
          try {
            for (let retry = 0; ; retry++) {
              let attempt = retry === 0 ? first : undefined;
              if (!attempt) {
                const token = breaker.tryAcquire();
                if (!token) throw circuitOpen(last);
                attempt = startAttempt(request, call, token);
              }
              const { token } = attempt;
              const outcome = await finishAttempt(request, attempt, call, (text) => sink.emit(text));
              if ('result' in outcome) {
                if (outcome.result.stopReason === 'aborted') breaker.release(token);
                else breaker.succeed(token);
                return outcome.result;
              }
              if (request.signal.aborted) {
                breaker.release(token);
                throw request.signal.reason;
              }
              const failure = outcome.timedOut
                ? new ModelError(
                    kind,
                    call.totalFired
                      ? `${kind}: the reply did not finish within ${totalTimeoutMs} ms`
                      : `${kind}: no first token within ${firstTokenTimeoutMs} ms`,
                    { retryable: true },
                  )
                : toModelError(kind, outcome.error);
              if (countsAgainstProvider(failure)) breaker.fail(token);
              else breaker.succeed(token);
              last = failure;
              if (outcome.gotDelta || !failure.retryable || retry >= maxRetries || call.totalFired) throw failure;
              const delay = backoff(retry);
              if (clock.now() + delay >= deadline) throw failure;
              await sleep(clock, delay, request.signal);
            }
          } finally {
            cancelTotal();
          }
        },
      });
    },
    async probe(signal: AbortSignal): Promise<void> {
      const controller = new AbortController();
      const onAbort = (): void => controller.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) controller.abort(signal.reason);
      let timedOut = false;
      const cancel = clock.setTimeout(() => {
        timedOut = true;
        controller.abort(new Error('probe deadline'));
      }, probeTimeoutMs);
      try {
        await inner.probe(controller.signal);
        if (timedOut) throw new Error('probe deadline');
      } catch (error) {
        if (timedOut && !signal.aborted) {
          throw new ModelError(kind, `${kind}: probe got no answer within ${probeTimeoutMs} ms`, {
            retryable: true,
            cause: error,
          });
        }
        throw toModelError(kind, error);
      } finally {
        cancel();
        signal.removeEventListener('abort', onAbort);
      }
    },
  };
}

/** Transport, server and protocol failures count against the provider; a definite 4xx answer does not. */
function countsAgainstProvider(error: ModelError): boolean {
  return error.retryable || error.status === undefined;
}

function toModelError(kind: ModelProvider['kind'], error: unknown): ModelError {
  if (error instanceof ModelError) return error;
  return new ModelError(kind, `${kind}: ${error instanceof Error ? error.message : String(error)}`, {
    retryable: false,
    cause: error,
  });
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number of ms`);
  return value;
}
