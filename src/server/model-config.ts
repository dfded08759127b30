import type { Config } from '../config/index.ts';
import { createModelExtractor, type ModelExtractor } from '../context/model-extractor.ts';
import { createModelSummarizer } from '../context/model-summarizer.ts';
import { createExtractiveSummarizer, type Summarizer } from '../context/summarizer.ts';
import type { TenantId } from '../core/types.ts';
import type { ModelConfig } from '../models/create-model-provider.ts';
import type { ModelProvider } from '../models/port.ts';
import type { Metrics } from '../observability/metrics.ts';

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
    resilience: { firstTokenTimeoutMs: config.modelFirstTokenTimeout * 1000, maxRetries: config.modelRetries },
  };
}

/**
 * The working context's summarizer and extractor: the embedded ones with the
 * offline responder; model-backed ones when a real model is configured, each
 * falling back to the embedded one (which also stays the extractor's floor).
 * `modelFor` (the `model-context` feature flag) says per tenant whether the
 * model-backed ones serve it; where it says no, the embedded ones do.
 */
export function contextModels(
  config: Config,
  model: ModelProvider,
  metrics: Metrics,
  modelFor?: (tenantId: TenantId) => boolean,
): {
  summarizer: Summarizer;
  extractor?: ModelExtractor;
  embeddedSummarizer?: Summarizer;
  useModel?: (tenantId: TenantId) => boolean;
} {
  const embedded = createExtractiveSummarizer({ maxWords: config.summaryMaxWords });
  if (model.kind === 'local') return { summarizer: embedded };
  return {
    embeddedSummarizer: embedded,
    ...(modelFor === undefined ? {} : { useModel: modelFor }),
    summarizer: createModelSummarizer({
      model,
      fallback: embedded,
      maxWords: config.summaryMaxWords,
      onFallback: (reason) => metrics.modelFallbacks.inc({ part: 'summarizer', reason }),
    }),
    extractor: createModelExtractor({ model }),
  };
}
