/**
 * One suite every network adapter runs against its loopback fake: the real
 * SDK, the real wire format, the resilience wrapper on a manual clock.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GenerateRequest, Generation, ModelMessage, ModelProvider } from '../../src/models/port.ts';
import { ModelError } from '../../src/models/port.ts';
import { type ResilienceOptions, withResilience } from '../../src/models/resilience.ts';
import type { FakeServer, RecordedRequest } from './fakes/fake-server.ts';
import { ManualClock } from './fakes/manual-clock.ts';

export interface RemoteSuite {
  kind: ModelProvider['kind'];
  startFake(): Promise<FakeServer>;
  create(fake: FakeServer): ModelProvider;
  /** The prompt as the fake received it: system text ('' when none) and the message list. */
  received(request: RecordedRequest): { system: string; messages: ModelMessage[]; maxTokens: unknown };
  /** Whether system messages travel apart (Anthropic, Bedrock) or in place (OpenAI). */
  systemApart: boolean;
  /** The model id the result should report. */
  model: string;
  /** The API's stop reason for a reply cut at max tokens. */
  maxTokensStop: string;
}

export const PROMPT: ModelMessage[] = [
  { role: 'system', content: 'You are a careful clinical assistant.' },
  { role: 'system', content: 'Patient profile:\nMedications: metformin 500 mg twice daily (active)' },
  { role: 'user', content: 'Hello, I have a question about my pills.' },
  { role: 'assistant', content: 'Of course. What would you like to know?' },
  { role: 'user', content: 'What dose of my diabetes medicine do I take?' },
];

const CHUNKS = ['You take ', 'metformin ', '500 mg', ' twice daily', '. Ask your clinician', ' before changing it.'];

export function request(signal: AbortSignal = new AbortController().signal, maxTokens = 256): GenerateRequest {
  return { messages: PROMPT, maxTokens, signal };
}

/** Read every delta; on failure return what arrived and the error. */
export async function drain(generation: Generation): Promise<{ text: string; chunks: string[]; error?: unknown }> {
  const chunks: string[] = [];
  try {
    for await (const delta of generation.deltas) chunks.push(delta);
  } catch (error) {
    return { text: chunks.join(''), chunks, error };
  }
  return { text: chunks.join(''), chunks };
}

export function describeRemoteProvider(suite: RemoteSuite): void {
  describe(`${suite.kind} adapter against its loopback fake`, () => {
    let fake: FakeServer;
    let provider: ModelProvider;
    let clock: ManualClock;
    const resilient = (options: ResilienceOptions = {}) =>
      withResilience(provider, { clock, backoffBaseMs: 0, random: () => 0, ...options });

    beforeAll(async () => {
      fake = await suite.startFake();
      provider = suite.create(fake);
    });
    afterAll(async () => {
      await fake.close();
    });
    beforeEach(() => {
      fake.reset();
      clock = new ManualClock();
    });

    it('streams a reply whose deltas join to the text, with stop reason, usage and model', async () => {
      fake.enqueue({ kind: 'stream', chunks: CHUNKS, usage: { input: 31, output: 12 } });
      const generation = provider.generate(request());
      const { text, chunks, error } = await drain(generation);
      expect(error).toBeUndefined();
      expect(chunks).toEqual(CHUNKS);
      expect(text).toBe(CHUNKS.join(''));
      expect(await generation.result).toEqual({
        stopReason: 'end',
        usage: { inputTokens: 31, outputTokens: 12 },
        model: suite.model,
        offline: false,
      });
    });

    it('sends the prompt: system messages and turns as the API expects them', async () => {
      fake.enqueue({ kind: 'stream', chunks: ['ok'] });
      await provider.generate(request(undefined, 321)).result;
      expect(fake.requests).toHaveLength(1);
      const got = suite.received(fake.requests[0]!);
      expect(got.maxTokens).toBe(321);
      if (suite.systemApart) {
        expect(got.system).toBe(`${PROMPT[0]!.content}\n\n${PROMPT[1]!.content}`);
        expect(got.messages).toEqual(PROMPT.slice(2));
      } else {
        expect(got.system).toBe('');
        expect(got.messages).toEqual(PROMPT);
      }
    });

    it('maps a max-tokens stop', async () => {
      fake.enqueue({ kind: 'stream', chunks: ['cut', ' short'], stopReason: suite.maxTokensStop });
      expect((await provider.generate(request()).result).stopReason).toBe('max_tokens');
    });

    it('retries an HTTP 500 before the first token, then streams the reply', async () => {
      fake.enqueue({ kind: 'status', status: 500 }, { kind: 'stream', chunks: CHUNKS });
      const generation = resilient().generate(request());
      const { text, error } = await drain(generation);
      expect(error).toBeUndefined();
      expect(text).toBe(CHUNKS.join(''));
      expect((await generation.result).stopReason).toBe('end');
      expect(fake.requests).toHaveLength(2);
    });

    it('retries a 429 too, at most maxRetries times', async () => {
      fake.setDefault({ kind: 'status', status: 429 });
      const error = await resilient({ maxRetries: 2 })
        .generate(request())
        .result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({ provider: suite.kind, status: 429, retryable: true });
      expect(fake.requests).toHaveLength(3);
    });

    it('does not retry a 400', async () => {
      fake.enqueue({ kind: 'status', status: 400, message: 'prompt is too long' }, { kind: 'stream', chunks: CHUNKS });
      const generation = resilient().generate(request());
      const { error } = await drain(generation);
      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({ provider: suite.kind, status: 400, retryable: false });
      expect((error as Error).message).toContain('prompt is too long');
      await expect(generation.result).rejects.toBe(error);
      expect(fake.requests).toHaveLength(1);
    });

    it('a connection cut mid-stream rejects the result and throws from the deltas, with no retry', async () => {
      fake.enqueue({ kind: 'stream', chunks: CHUNKS, cutAfter: 2 }, { kind: 'stream', chunks: CHUNKS });
      const generation = resilient().generate(request());
      const { chunks, error } = await drain(generation);
      expect(chunks).toEqual(CHUNKS.slice(0, 2));
      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({ provider: suite.kind });
      await expect(generation.result).rejects.toBeInstanceOf(ModelError);
      expect(fake.requests).toHaveLength(1);
    });

    it('a stream cut after its last delta but before its terminal event is not reported complete', async () => {
      fake.enqueue({ kind: 'stream', chunks: CHUNKS, cutAfter: CHUNKS.length });
      const generation = provider.generate(request());
      const { text, error } = await drain(generation);
      expect(text).toBe(CHUNKS.join(''));
      expect(error).toBeInstanceOf(ModelError);
      await expect(generation.result).rejects.toBeInstanceOf(ModelError);
    });

    it('a cut before the first token is retried', async () => {
      fake.enqueue({ kind: 'stream', chunks: CHUNKS, cutAfter: 0 }, { kind: 'stream', chunks: CHUNKS });
      const generation = resilient().generate(request());
      expect((await drain(generation)).text).toBe(CHUNKS.join(''));
      expect(fake.requests).toHaveLength(2);
    });

    it('garbage in the stream fails with a ModelError', async () => {
      fake.enqueue({ kind: 'stream', chunks: CHUNKS, garbageAfter: 1 });
      const generation = provider.generate(request());
      const { chunks, error } = await drain(generation);
      expect(chunks).toEqual(CHUNKS.slice(0, 1));
      expect(error).toBeInstanceOf(ModelError);
      await expect(generation.result).rejects.toBe(error);
    });

    it("the API's in-stream error event fails the generation with a retryable ModelError", async () => {
      fake.enqueue({ kind: 'stream', chunks: CHUNKS, errorAfter: 2 });
      const generation = provider.generate(request());
      const { chunks, error } = await drain(generation);
      expect(chunks).toEqual(CHUNKS.slice(0, 2));
      expect(error).toMatchObject({ name: 'ModelError', provider: suite.kind, retryable: true });
    });

    it('a server that never answers fails on the first-token deadline', async () => {
      fake.enqueue({ kind: 'hang' });
      const generation = resilient({ firstTokenTimeoutMs: 1_000, maxRetries: 0 }).generate(request());
      await fake.waitForRequests(1);
      await clock.advance(999);
      await clock.advance(1);
      const error = await generation.result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelError);
      expect(error).toMatchObject({ retryable: true, message: `${suite.kind}: no first token within 1000 ms` });
    });

    it('a server that sends headers then nothing fails on the first-token deadline and is retried', async () => {
      fake.enqueue({ kind: 'hang', afterHeaders: true }, { kind: 'stream', chunks: CHUNKS });
      const generation = resilient({ firstTokenTimeoutMs: 1_000 }).generate(request());
      await fake.waitForRequests(1);
      await clock.advance(1_000);
      expect((await drain(generation)).text).toBe(CHUNKS.join(''));
      expect(fake.requests).toHaveLength(2);
    });

    it('a reply that stalls mid-stream fails on the total deadline', async () => {
      fake.enqueue({ kind: 'stream', chunks: CHUNKS, hangAfter: 2 });
      const generation = resilient({ totalTimeoutMs: 5_000 }).generate(request());
      const iterator = generation.deltas[Symbol.asyncIterator]();
      expect((await iterator.next()).value).toBe(CHUNKS[0]);
      expect((await iterator.next()).value).toBe(CHUNKS[1]);
      await clock.advance(5_000);
      await expect(iterator.next()).rejects.toThrow(`${suite.kind}: the reply did not finish within 5000 ms`);
      await expect(generation.result).rejects.toBeInstanceOf(ModelError);
      expect(fake.requests).toHaveLength(1);
    });

    it("the caller's abort ends the stream with stopReason 'aborted'", async () => {
      fake.enqueue({ kind: 'stream', chunks: CHUNKS, hangAfter: 1 });
      const controller = new AbortController();
      const generation = resilient().generate(request(controller.signal));
      const iterator = generation.deltas[Symbol.asyncIterator]();
      expect((await iterator.next()).value).toBe(CHUNKS[0]);
      controller.abort();
      expect(await iterator.next()).toEqual({ value: undefined, done: true });
      expect(await generation.result).toMatchObject({ stopReason: 'aborted', offline: false });
    });

    it('the circuit opens after consecutive failures, fails fast, and half-opens after the cool-down', async () => {
      fake.setDefault({ kind: 'status', status: 503 });
      const model = resilient({ maxRetries: 0, circuit: { failureThreshold: 2, cooldownMs: 10_000 } });
      for (let i = 0; i < 2; i++) {
        await expect(model.generate(request()).result).rejects.toMatchObject({ status: 503 });
      }
      expect(model.circuit().state).toBe('open');
      const fast = await model.generate(request()).result.catch((e: unknown) => e);
      expect(fast).toMatchObject({ name: 'ModelError', retryable: false });
      expect((fast as Error).message).toContain('circuit open');
      expect(fake.requests).toHaveLength(2);

      await clock.advance(10_000);
      expect(model.circuit().state).toBe('half-open');
      fake.setDefault({ kind: 'stream', chunks: CHUNKS });
      expect((await drain(model.generate(request()))).text).toBe(CHUNKS.join(''));
      expect(model.circuit()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
      expect(fake.requests).toHaveLength(3);
    });

    it('probe answers when the server does, and maps a refusal', async () => {
      await expect(provider.probe(new AbortController().signal)).resolves.toBeUndefined();
      fake.setProbe({ kind: 'status', status: 403, message: 'no access' });
      await expect(provider.probe(new AbortController().signal)).rejects.toMatchObject({
        name: 'ModelError',
        provider: suite.kind,
        status: 403,
        retryable: false,
      });
    });

    it('probe gives up on its deadline', async () => {
      fake.setProbe({ kind: 'hang' });
      const probing = resilient({ probeTimeoutMs: 2_000 })
        .probe(new AbortController().signal)
        .catch((e: unknown) => e);
      await fake.waitForRequests(1);
      await clock.advance(2_000);
      expect(await probing).toMatchObject({
        name: 'ModelError',
        message: `${suite.kind}: probe got no answer within 2000 ms`,
      });
    });
  });
}
