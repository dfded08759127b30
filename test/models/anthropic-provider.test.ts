import { expect, it } from 'vitest';
import { createAnthropicProvider } from '../../src/models/anthropic-provider.ts';
import type { ModelMessage } from '../../src/models/port.ts';
import { FAKE_ANTHROPIC_MODEL, startAnthropicFake } from './fakes/anthropic-fake.ts';
import { describeRemoteProvider } from './remote-provider-suite.ts';

describeRemoteProvider({
  kind: 'anthropic',
  startFake: startAnthropicFake,
  create: (fake) => createAnthropicProvider({ apiKey: 'sk-ant-test', baseURL: fake.url, model: 'claude-configured' }),
  received(req) {
    const body = req.body as { system?: string; messages: ModelMessage[]; max_tokens: number; model: string };
    expect(body.model).toBe('claude-configured');
    expect(req.headers['authorization']).toBe('Bearer sk-ant-test');
    return { system: body.system ?? '', messages: body.messages, maxTokens: body.max_tokens };
  },
  systemApart: true,
  model: FAKE_ANTHROPIC_MODEL,
  maxTokensStop: 'max_tokens',
});

it('createAnthropicProvider refuses a missing API key, naming the setting', () => {
  expect(() => createAnthropicProvider({ apiKey: '' })).toThrow(/CONTINUUM_ANTHROPIC_API_KEY/);
});
