import { expect, it } from 'vitest';
import { createOpenAIProvider } from '../../src/models/openai-provider.ts';
import type { ModelMessage } from '../../src/models/port.ts';
import { FAKE_OPENAI_MODEL, startOpenAIFake } from './fakes/openai-fake.ts';
import { describeRemoteProvider, drain, request } from './remote-provider-suite.ts';

describeRemoteProvider({
  kind: 'openai',
  startFake: startOpenAIFake,
  create: (fake) => createOpenAIProvider({ apiKey: 'sk-test', baseURL: `${fake.url}/v1`, model: 'configured-model' }),
  received(req) {
    const body = req.body as {
      messages: ModelMessage[];
      max_tokens: number;
      model: string;
      stream: boolean;
      stream_options: unknown;
    };
    expect(body).toMatchObject({ model: 'configured-model', stream: true, stream_options: { include_usage: true } });
    expect(req.headers['authorization']).toBe('Bearer sk-test');
    return { system: '', messages: body.messages, maxTokens: body.max_tokens };
  },
  systemApart: false,
  model: FAKE_OPENAI_MODEL,
  maxTokensStop: 'length',
});

it('createOpenAIProvider refuses a missing model, naming the setting', () => {
  expect(() => createOpenAIProvider({ model: ' ' })).toThrow(/CONTINUUM_OPENAI_MODEL/);
});

it('sends max_completion_tokens when told to, and counts usage itself when the server reports none', async () => {
  const fake = await startOpenAIFake();
  try {
    const model = createOpenAIProvider({
      baseURL: `${fake.url}/v1`,
      model: 'm',
      maxTokensField: 'max_completion_tokens',
    });
    fake.enqueue({ kind: 'stream', chunks: ['Hello', ' there'] });
    const generation = model.generate(request(undefined, 77));
    expect((await drain(generation)).text).toBe('Hello there');
    expect(fake.requests[0]!.body).toMatchObject({ max_completion_tokens: 77 });
    expect(fake.requests[0]!.body).not.toHaveProperty('max_tokens');
    expect(fake.requests[0]!.headers['authorization']).toBe('Bearer not-needed');
  } finally {
    await fake.close();
  }
});
