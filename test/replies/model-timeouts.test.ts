import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFlags } from '../../src/flags/flag-input.ts';
import { buildTestApp } from '../helpers/test-app.ts';
import type { FakeServer } from '../models/fakes/fake-server.ts';
import { startOpenAIFake } from '../models/fakes/openai-fake.ts';

let fake: FakeServer;
beforeAll(async () => {
  fake = await startOpenAIFake();
});
afterAll(() => fake.close());

describe('CONTINUUM_MODEL_FIRST_TOKEN_TIMEOUT and CONTINUUM_MODEL_RETRIES', () => {
  it('a model that never sends a token is abandoned after the configured wait and retries, keeping the user turn', async () => {
    fake.setDefault({ kind: 'hang', afterHeaders: true });
    const t = await buildTestApp({
      config: {
        model: 'openai',
        openaiApiKey: 'sk-test',
        openaiBaseUrl: `${fake.url}/v1`,
        openaiModel: 'gpt-test',
        modelFirstTokenTimeout: 1,
        modelRetries: 1,
        // Keep the model-backed summarizer and extractor off this fake: only the reply is timed.
        flags: parseFlags('model-context=off'),
      },
    });
    try {
      const { apiKey } = await t.createTenant();
      const token = (await t.token(apiKey, 'patient-1')).access_token;
      const id = (await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).json().id;
      const before = fake.requests.length;
      const started = Date.now();
      const res = await t.request({
        method: 'POST',
        url: `/v1/conversations/${id}/turns`,
        token,
        body: { role: 'user', content: 'What should I take for the headache?', expectedTurn: 0, respond: true },
      });
      const waited = Date.now() - started;
      expect(res.statusCode, res.body).toBe(502);
      expect(res.json().code).toBe('model_failed');
      // Two attempts of one second each (plus a short backoff), not the default three of thirty.
      expect(fake.requests.length - before).toBe(2);
      expect(waited).toBeLessThan(20_000);
      const turns = await t.request({ method: 'GET', url: `/v1/conversations/${id}/turns`, token });
      expect(turns.json().items.map((turn: { role: string }) => turn.role)).toEqual(['user']);
    } finally {
      await t.close();
    }
  });
});
