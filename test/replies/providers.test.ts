import { afterEach, describe, expect, it } from 'vitest';
import { PROMPT_HEADERS } from '../../src/context/prompt-builder.ts';
import { createModelProvider, type ModelConfig } from '../../src/models/create-model-provider.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';
import { startAnthropicFake } from '../models/fakes/anthropic-fake.ts';
import { startBedrockFake } from '../models/fakes/bedrock-fake.ts';
import type { FakeServer } from '../models/fakes/fake-server.ts';
import { startOpenAIFake } from '../models/fakes/openai-fake.ts';

/** Each real SDK, configured the way CONTINUUM_MODEL selects it, against its loopback fake. */
const PROVIDERS: {
  kind: ModelConfig['kind'];
  start: () => Promise<FakeServer>;
  config: (url: string) => ModelConfig;
}[] = [
  {
    kind: 'anthropic',
    start: startAnthropicFake,
    config: (url) => ({ kind: 'anthropic', anthropic: { apiKey: 'sk-ant-test', baseURL: url, model: 'claude-test' } }),
  },
  {
    kind: 'openai',
    start: startOpenAIFake,
    config: (url) => ({ kind: 'openai', openai: { apiKey: 'sk-test', baseURL: `${url}/v1`, model: 'gpt-test' } }),
  },
  {
    kind: 'bedrock',
    start: startBedrockFake,
    config: (url) => ({
      kind: 'bedrock',
      bedrock: {
        modelId: 'anthropic.claude-test',
        region: 'us-east-1',
        endpoint: url,
        accessKeyId: 'AKIDTEST',
        secretAccessKey: 'secret-test',
      },
    }),
  },
];

describe.each(PROVIDERS)('a reply through Continuum from $kind', ({ start, config }) => {
  let fake: FakeServer | undefined;
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    await fake?.close();
  });

  it('streams the provider’s deltas into the stored reply, with the working context in the prompt', async () => {
    fake = await start();
    const chunks = ['You take ', 'metformin ', '500 mg ', 'twice daily.'];
    fake.setDefault({ kind: 'stream', chunks, delayMs: 2 });
    t = await buildTestApp({ model: createModelProvider(config(fake.url)) });
    const { apiKey } = await t.createTenant();
    const token = (await t.token(apiKey, 'patient-1')).access_token;
    const id = (await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).json().id;
    const append = (content: string, expectedTurn: number, respond = false) =>
      t!.request({
        method: 'POST',
        url: `/v1/conversations/${id}/turns`,
        token,
        body: { role: 'user', content, expectedTurn, respond },
      });
    expect((await append('I take metformin 500 mg twice a day.', 0)).statusCode).toBe(201);
    const res = await append('Remind me of my dose?', 1, true);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().reply).toMatchObject({ number: 3, role: 'assistant', content: chunks.join('') });
    const stored = await t.request({ method: 'GET', url: `/v1/conversations/${id}/turns?after=2`, token });
    expect(stored.json().items[0].content).toBe(chunks.join(''));
    // The reply's request carries the working context (profile block); the context's own model calls do not.
    const replyRequests = fake.requests
      .map((r) => JSON.stringify(r.body))
      .filter((body) => body.includes(PROMPT_HEADERS.profile));
    expect(replyRequests).toHaveLength(1);
    expect(replyRequests[0]).toContain('Remind me of my dose?');
    expect(replyRequests[0]).toMatch(/metformin 500 mg/);
    // With a real model the context also asks it for facts; its non-JSON answer here falls back to the embedded extractor.
    const context = await t.request({ method: 'GET', url: `/v1/conversations/${id}/context`, token });
    expect(context.json().profile.medications.map((m: { name: string }) => m.name)).toContain('metformin');
    const metrics = (await t.request({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/continuum_context_model_fallbacks_total\{part="extractor",reason="malformed"\} \d+/);
  });
});
