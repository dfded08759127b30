import type { Config } from '../config/index.ts';
import type { ModelConfig } from '../models/create-model-provider.ts';

const defined = <T extends object>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The model provider's settings, from the parsed configuration. */
export function modelConfigOf(config: Config): ModelConfig {
  return {
    kind: config.model,
    local: { wordDelayMs: config.localWordDelayMs },
    anthropic: defined({
      apiKey: config.anthropicApiKey,
      baseURL: config.anthropicBaseUrl,
      model: config.anthropicModel,
    }),
    openai: defined({ apiKey: config.openaiApiKey, baseURL: config.openaiBaseUrl, model: config.openaiModel }),
    bedrock: defined({
      modelId: config.bedrockModelId,
      region: config.bedrockRegion,
      endpoint: config.bedrockEndpoint,
    }),
  };
}
