import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.ts';
import { checkModelConfig, createModelProvider, type ModelConfig } from '../../src/models/index.ts';
import { startAnthropicFake } from './fakes/anthropic-fake.ts';
import { drain } from './remote-provider-suite.ts';

describe('createModelProvider', () => {
  it('builds the local responder by default settings, wrapped in resilience', async () => {
    const model = createModelProvider({ kind: 'local', local: { wordDelayMs: 0 } });
    expect(model.kind).toBe('local');
    expect(model.inner.kind).toBe('local');
    expect(model.circuit().state).toBe('closed');
    const generation = model.generate({
      messages: [{ role: 'user', content: 'hello?' }],
      maxTokens: 200,
      signal: new AbortController().signal,
    });
    expect((await drain(generation)).text).toContain('You asked: "hello?"');
    expect(await generation.result).toMatchObject({ offline: true, model: 'continuum-local' });
  });

  it('builds a remote adapter from its settings', async () => {
    const fake = await startAnthropicFake();
    try {
      const model = createModelProvider({ kind: 'anthropic', anthropic: { apiKey: 'k', baseURL: fake.url } });
      fake.enqueue({ kind: 'stream', chunks: ['Hi', ' there'] });
      const generation = model.generate({
        messages: [{ role: 'user', content: 'hello' }],
        maxTokens: 20,
        signal: new AbortController().signal,
      });
      expect((await drain(generation)).text).toBe('Hi there');
      expect(fake.requests[0]!.body).toMatchObject({ model: 'claude-sonnet-5-5' });
    } finally {
      await fake.close();
    }
  });

  it.each<[ModelConfig, RegExp]>([
    [{ kind: 'anthropic' }, /CONTINUUM_MODEL=anthropic needs CONTINUUM_ANTHROPIC_API_KEY/],
    [
      { kind: 'anthropic', anthropic: { apiKey: 'k', baseURL: 'localhost:8080' } },
      /CONTINUUM_ANTHROPIC_BASE_URL must be/,
    ],
    [{ kind: 'openai', openai: { baseURL: 'http://localhost:11434/v1' } }, /needs CONTINUUM_OPENAI_MODEL/],
    [{ kind: 'openai', openai: { model: 'gpt-4o-mini' } }, /CONTINUUM_OPENAI_API_KEY for api\.openai\.com/],
    [{ kind: 'bedrock' }, /CONTINUUM_MODEL=bedrock needs CONTINUUM_BEDROCK_MODEL_ID/],
    [
      { kind: 'bedrock', bedrock: { modelId: 'm', accessKeyId: 'AKID' } },
      /CONTINUUM_BEDROCK_ACCESS_KEY_ID and CONTINUUM_BEDROCK_SECRET_ACCESS_KEY go together/,
    ],
    [{ kind: 'local', local: { wordDelayMs: -5 } }, /CONTINUUM_LOCAL_WORD_DELAY_MS/],
    [{ kind: 'gpt' as 'local' }, /CONTINUUM_MODEL must be one of local, anthropic, bedrock, openai/],
  ])('refuses %j at boot, naming the setting', (config, message) => {
    expect(() => createModelProvider(config)).toThrow(ConfigError);
    expect(() => createModelProvider(config)).toThrow(message);
  });

  it('lists every problem at once', () => {
    expect(checkModelConfig({ kind: 'openai', openai: { baseURL: 'ftp://x' } })).toEqual([
      'CONTINUUM_MODEL=openai needs CONTINUUM_OPENAI_MODEL (the model name the server serves, e.g. gpt-4o-mini or llama3.1:8b)',
      'CONTINUUM_OPENAI_BASE_URL must be an http:// or https:// URL (got "ftp://x")',
    ]);
    expect(
      checkModelConfig({ kind: 'openai', openai: { baseURL: 'http://localhost:11434/v1', model: 'llama3.1:8b' } }),
    ).toEqual([]);
  });
});
