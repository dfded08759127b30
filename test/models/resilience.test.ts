import { describe, expect, it } from 'vitest';
import { checkRequest, streamGeneration } from '../../src/models/generation.ts';
import { type GenerateRequest, ModelError, type ModelProvider } from '../../src/models/port.ts';
import { type ResilienceOptions, withResilience } from '../../src/models/resilience.ts';
import { ManualClock, settle } from './fakes/manual-clock.ts';
import { drain } from './remote-provider-suite.ts';

/** What one attempt of the stub does. */
type Step =
  | { fail: ModelError }
  | { deltas: string[]; thenFail?: ModelError }
  /** Never answers until aborted. */
  | { hang: true };

const unavailable = (): ModelError => new ModelError('openai', 'openai: 503 busy', { retryable: true, status: 503 });
const badRequest = (): ModelError => new ModelError('openai', 'openai: 400 bad', { retryable: false, status: 400 });

function stub(steps: Step[]): ModelProvider & { calls: GenerateRequest[] } {
  const calls: GenerateRequest[] = [];
  return {
    kind: 'openai',
    calls,
    generate(request) {
      checkRequest(request);
      calls.push(request);
      const step = steps.shift() ?? { deltas: ['ok'] };
      return streamGeneration({
        provider: 'openai',
        request,
        model: 'stub',
        toModelError: (e) => new ModelError('openai', String(e), { retryable: false }),
        async run(sink) {
          if ('fail' in step) throw step.fail;
          if ('hang' in step) {
            await new Promise((_, reject) =>
              request.signal.addEventListener('abort', () => reject(request.signal.reason), { once: true }),
            );
          } else {
            for (const d of step.deltas) sink.emit(d);
            if (step.thenFail) throw step.thenFail;
          }
          return { stopReason: 'end', usage: { inputTokens: 1, outputTokens: 1 }, model: 'stub', offline: false };
        },
      });
    },
    async probe() {},
  };
}

const req = (signal = new AbortController().signal): GenerateRequest => ({
  messages: [{ role: 'user', content: 'hi' }],
  maxTokens: 10,
  signal,
});

function setup(steps: Step[], options: ResilienceOptions = {}) {
  const clock = new ManualClock();
  const inner = stub(steps);
  const model = withResilience(inner, { clock, random: () => 0.5, backoffBaseMs: 100, ...options });
  return { clock, inner, model };
}

describe('withResilience', () => {
  it('retries a retryable failure before the first token after exponential backoff with jitter', async () => {
    const { clock, inner, model } = setup([{ fail: unavailable() }, { fail: unavailable() }, { deltas: ['fine'] }]);
    const generation = model.generate(req());
    await settle();
    expect(inner.calls).toHaveLength(1);
    // retry 0: 100 ms · 2^0 · (0.5 + 0.5/2) = 75 ms; retry 1: 150 ms.
    await clock.advance(74);
    expect(inner.calls).toHaveLength(1);
    await clock.advance(1);
    expect(inner.calls).toHaveLength(2);
    await clock.advance(149);
    expect(inner.calls).toHaveLength(2);
    await clock.advance(1);
    expect(inner.calls).toHaveLength(3);
    expect((await drain(generation)).text).toBe('fine');
    expect((await generation.result).stopReason).toBe('end');
  });

  it('gives up after maxRetries with the last error', async () => {
    const { clock, inner, model } = setup([{ fail: unavailable() }, { fail: unavailable() }, { fail: unavailable() }], {
      maxRetries: 2,
    });
    const result = model.generate(req()).result.catch((e: unknown) => e);
    await clock.advance(1_000);
    expect(await result).toMatchObject({ status: 503, retryable: true });
    expect(inner.calls).toHaveLength(3);
  });

  it('does not retry a non-retryable failure', async () => {
    const { inner, model } = setup([{ fail: badRequest() }]);
    await expect(model.generate(req()).result).rejects.toMatchObject({ status: 400 });
    expect(inner.calls).toHaveLength(1);
  });

  it('never retries once a delta went out', async () => {
    const { inner, model } = setup([{ deltas: ['par', 'tial'], thenFail: unavailable() }]);
    const generation = model.generate(req());
    const { text, error } = await drain(generation);
    expect(text).toBe('partial');
    expect(error).toMatchObject({ status: 503 });
    await expect(generation.result).rejects.toBe(error);
    expect(inner.calls).toHaveLength(1);
  });

  it('does not start a retry whose backoff would pass the total deadline', async () => {
    const { inner, model } = setup([{ fail: unavailable() }], { backoffBaseMs: 2_000, totalTimeoutMs: 1_000 });
    await expect(model.generate(req()).result).rejects.toMatchObject({ status: 503 });
    expect(inner.calls).toHaveLength(1);
  });

  it('times out an attempt with no first token and retries it', async () => {
    const { clock, inner, model } = setup([{ hang: true }, { deltas: ['late'] }], { firstTokenTimeoutMs: 500 });
    const generation = model.generate(req());
    await clock.advance(499);
    expect(inner.calls).toHaveLength(1);
    expect(inner.calls[0]!.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(inner.calls[0]!.signal.aborted).toBe(true);
    await clock.advance(75);
    expect((await drain(generation)).text).toBe('late');
    expect(inner.calls).toHaveLength(2);
  });

  it('passes the caller abort through: stopReason aborted, no retry, breaker untouched', async () => {
    const { inner, model } = setup([{ hang: true }], { circuit: { failureThreshold: 1 } });
    const controller = new AbortController();
    const generation = model.generate(req(controller.signal));
    await settle();
    controller.abort();
    expect((await generation.result).stopReason).toBe('aborted');
    expect(inner.calls).toHaveLength(1);
    expect(model.circuit().state).toBe('closed');
  });

  it('an abort during backoff ends the call at once', async () => {
    const { clock, inner, model } = setup([{ fail: unavailable() }]);
    const controller = new AbortController();
    const generation = model.generate(req(controller.signal));
    await settle();
    expect(clock.pending).toBeGreaterThan(0);
    controller.abort();
    expect((await generation.result).stopReason).toBe('aborted');
    await clock.advance(10_000);
    expect(inner.calls).toHaveLength(1);
  });

  it('opens the circuit after N consecutive failures, fails fast, then lets one trial through after the cool-down', async () => {
    const steps: Step[] = [{ fail: unavailable() }, { fail: unavailable() }, { fail: unavailable() }];
    const { clock, inner, model } = setup(steps, {
      maxRetries: 0,
      circuit: { failureThreshold: 3, cooldownMs: 5_000 },
    });
    for (let i = 0; i < 3; i++) await expect(model.generate(req()).result).rejects.toMatchObject({ status: 503 });
    expect(model.circuit()).toMatchObject({ state: 'open', consecutiveFailures: 3, retryAt: clock.now() + 5_000 });

    const fast = await model.generate(req()).result.catch((e: unknown) => e);
    expect(fast).toBeInstanceOf(ModelError);
    expect(fast).toMatchObject({ retryable: false, status: undefined });
    expect((fast as Error).message).toMatch(/^openai: circuit open after 3 consecutive failures/);
    expect(inner.calls).toHaveLength(3);

    await clock.advance(4_999);
    expect(model.circuit().state).toBe('open');
    await clock.advance(1);
    expect(model.circuit().state).toBe('half-open');

    // The trial fails: open again for another cool-down.
    steps.push({ fail: unavailable() });
    await expect(model.generate(req()).result).rejects.toMatchObject({ status: 503 });
    expect(model.circuit().state).toBe('open');
    await clock.advance(5_000);

    // Only one trial at a time; its success closes the circuit.
    steps.push({ hang: true });
    const trial = model.generate(req());
    await settle();
    await expect(model.generate(req()).result).rejects.toThrow(/circuit open/);
    expect(inner.calls).toHaveLength(5);
    await clock.advance(30_000);
    await expect(trial.result).rejects.toThrow(/no first token/);
    expect(model.circuit().state).toBe('open');
    await clock.advance(5_000);
    await expect(model.generate(req()).result).resolves.toMatchObject({ stopReason: 'end' });
    expect(model.circuit()).toEqual({ state: 'closed', consecutiveFailures: 0, retryAt: undefined });
  });

  it('a 4xx answer does not count against the provider', async () => {
    const { model } = setup([{ fail: badRequest() }, { fail: badRequest() }, { fail: badRequest() }], {
      circuit: { failureThreshold: 2 },
    });
    for (let i = 0; i < 3; i++) await expect(model.generate(req()).result).rejects.toMatchObject({ status: 400 });
    expect(model.circuit().state).toBe('closed');
  });

  it("throws the adapter's TypeError for a misused request synchronously, without touching the breaker", () => {
    const inner: ModelProvider = {
      kind: 'anthropic',
      generate() {
        throw new TypeError('the prompt needs at least one user or assistant message');
      },
      async probe() {},
    };
    const model = withResilience(inner, { circuit: { failureThreshold: 1 } });
    expect(() => model.generate(req())).toThrow(TypeError);
    expect(model.circuit()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('checks its options and the request eagerly', () => {
    expect(() => withResilience(stub([]), { maxRetries: 6 })).toThrow(TypeError);
    expect(() => withResilience(stub([]), { firstTokenTimeoutMs: 0 })).toThrow(/firstTokenTimeoutMs/);
    expect(() => withResilience(stub([]), { circuit: { failureThreshold: 0 } })).toThrow(/failureThreshold/);
    expect(() => withResilience(stub([])).generate({ ...req(), maxTokens: -1 })).toThrow(TypeError);
  });
});
