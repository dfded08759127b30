import { expect, it } from 'vitest';
import { createBedrockProvider } from '../../src/models/bedrock-provider.ts';
import { startBedrockFake } from './fakes/bedrock-fake.ts';
import { describeRemoteProvider } from './remote-provider-suite.ts';

const MODEL_ID = 'us.anthropic.claude-fake-v1:0';

describeRemoteProvider({
  kind: 'bedrock',
  startFake: startBedrockFake,
  create: (fake) =>
    createBedrockProvider({
      modelId: MODEL_ID,
      region: 'us-west-2',
      endpoint: fake.url,
      credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' },
    }),
  received(req) {
    expect(req.path).toBe(`/model/${MODEL_ID}/converse-stream`);
    expect(String(req.headers['authorization'])).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDFAKE\/\d{8}\/us-west-2\/bedrock\//,
    );
    const body = req.body as {
      system?: { text: string }[];
      messages: { role: 'user' | 'assistant'; content: { text: string }[] }[];
      inferenceConfig: { maxTokens: number };
    };
    return {
      system: (body.system ?? []).map((b) => b.text).join('\n\n'),
      messages: body.messages.map((m) => ({ role: m.role, content: m.content.map((c) => c.text).join('') })),
      maxTokens: body.inferenceConfig.maxTokens,
    };
  },
  systemApart: true,
  model: MODEL_ID,
  maxTokensStop: 'max_tokens',
});

it('createBedrockProvider refuses a missing model id and half-given credentials', () => {
  expect(() => createBedrockProvider({ modelId: '' })).toThrow(/CONTINUUM_BEDROCK_MODEL_ID/);
  expect(() =>
    createBedrockProvider({ modelId: 'm', credentials: { accessKeyId: 'AKID', secretAccessKey: '' } }),
  ).toThrow(/secret access key/);
});

it('probe falls back to a one-token Converse when the model cannot count tokens', async () => {
  const fake = await startBedrockFake();
  try {
    const model = createBedrockProvider({
      modelId: MODEL_ID,
      endpoint: fake.url,
      credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' },
    });
    await model.probe(new AbortController().signal);
    expect(fake.requests.map((r) => r.path)).toEqual([`/model/${MODEL_ID}/count-tokens`]);
    fake.requests.length = 0;
    fake.setProbe({ kind: 'status', status: 400, message: 'This model does not support token counting' });
    await expect(model.probe(new AbortController().signal)).rejects.toMatchObject({ status: 400 });
    expect(fake.requests.map((r) => r.path)).toEqual([
      `/model/${MODEL_ID}/count-tokens`,
      `/model/${MODEL_ID}/converse`,
    ]);
  } finally {
    await fake.close();
  }
});
