import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ModelFallbackReason } from '../../src/context/model-summarizer.ts';
import { createIntentRouter, createModelIntentClassifier } from '../../src/intents/index.ts';
import { createModelProvider } from '../../src/models/create-model-provider.ts';
import type { FakeServer } from '../models/fakes/fake-server.ts';
import { startOpenAIFake } from '../models/fakes/openai-fake.ts';

let fake: FakeServer;
beforeAll(async () => {
  fake = await startOpenAIFake();
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

function setup() {
  const model = createModelProvider({
    kind: 'openai',
    openai: { apiKey: 'sk-test', baseURL: `${fake.url}/v1`, model: 'gpt-test' },
    resilience: { maxRetries: 0 },
  });
  const reasons: ModelFallbackReason[] = [];
  const classifier = createModelIntentClassifier({
    model,
    router: createIntentRouter(),
    onFallback: (reason) => reasons.push(reason),
  });
  return { classifier, reasons };
}

// Plain words no emergency rule knows, which a person would still call for help about.
const UNRULED = 'Everything went grey around the edges and my wife says I was out cold on the kitchen floor.';

describe('the model as a second opinion on the intent rules', () => {
  it('asks the model about a turn the rules leave as general, and escalates the emergency it finds', async () => {
    const { classifier, reasons } = setup();
    expect(createIntentRouter().classify(UNRULED).intent).toBe('general');
    fake.setDefault({ kind: 'stream', chunks: ['{"intent": ', '"emergency"}'] });
    const result = await classifier.classify(UNRULED);
    expect(result).toMatchObject({ intent: 'emergency', matched: ['model'] });
    expect(fake.requests).toHaveLength(1);
    const messages = (fake.requests[0]!.body as { messages: { role: string; content: string }[] }).messages;
    expect(messages.at(-1)).toEqual({ role: 'user', content: UNRULED });
    expect(reasons).toEqual([]);
  });

  it('never asks about, nor downgrades, what the rules already place', async () => {
    const { classifier } = setup();
    fake.setDefault({ kind: 'stream', chunks: ['{"intent": "general"}'] });
    const emergency = await classifier.classify('I have crushing chest pain and my left arm is numb.');
    expect(emergency.intent).toBe('emergency');
    const scheduling = await classifier.classify('Can I move my appointment to Friday afternoon?');
    expect(scheduling.intent).toBe('scheduling');
    expect(fake.requests).toHaveLength(0);
  });

  it('keeps the rules\u2019 answer when the model fails or answers nonsense, and says why', async () => {
    const { classifier, reasons } = setup();
    fake.setDefault({ kind: 'stream', chunks: ['I think this is probably fine.'] });
    expect((await classifier.classify(UNRULED)).intent).toBe('general');
    fake.setDefault({ kind: 'status', status: 500 });
    expect((await classifier.classify(UNRULED)).intent).toBe('general');
    expect(reasons).toEqual(['malformed', 'error']);
  });
});

describe('CONTINUUM_INTENT_MODEL in a reply', () => {
  it('a turn only the model recognises as an emergency is escalated: escalation event and alert', async () => {
    const { buildTestApp, ADMIN_TOKEN } = await import('../helpers/test-app.ts');
    const model = createModelProvider({
      kind: 'openai',
      openai: { apiKey: 'sk-test', baseURL: `${fake.url}/v1`, model: 'gpt-test' },
      resilience: { maxRetries: 0 },
    });
    const { parseFlags } = await import('../../src/flags/flag-input.ts');
    // Model-backed extraction off, so the fake's two answers go to the intent call and the reply.
    const t = await buildTestApp({ model, config: { intentModel: true, flags: parseFlags('model-context=off') } });
    try {
      const { apiKey } = await t.createTenant();
      const token = (await t.token(apiKey, 'patient-1')).access_token;
      const id = (await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).json().id;
      fake.enqueue(
        { kind: 'stream', chunks: ['{"intent": "emergency"}'] },
        { kind: 'stream', chunks: ['Please call emergency services now.'] },
      );
      const res = await t.request({
        method: 'POST',
        url: `/v1/conversations/${id}/turns`,
        token,
        body: { role: 'user', content: UNRULED, expectedTurn: 0, respond: true },
      });
      expect(res.statusCode, res.body).toBe(201);
      const alerts = await t.request({ method: 'GET', url: '/v1/admin/alerts', token: ADMIN_TOKEN });
      expect(alerts.json().firing.map((a: { id: string }) => a.id)).toEqual(['emergency_escalation']);
      // The reply was generated under the emergency handling's system prompt.
      const replyRequest = fake.requests.at(-1)!.body as { messages: { role: string; content: string }[] };
      expect(replyRequest.messages.some((m) => m.role === 'system' && /emergency services/i.test(m.content))).toBe(
        true,
      );
    } finally {
      await t.close();
    }
  });
});
