/**
 * Model providers (ADR-005): the port, the four adapters, the resilience
 * wrapper and the factory that picks one from `CONTINUUM_MODEL`.
 */
export {
  type AnthropicProviderOptions,
  createAnthropicProvider,
  DEFAULT_ANTHROPIC_BASE_URL,
  DEFAULT_ANTHROPIC_MODEL,
} from './anthropic-provider.ts';
export { type BedrockProviderOptions, createBedrockProvider, DEFAULT_BEDROCK_REGION } from './bedrock-provider.ts';
export {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitSnapshot,
  type CircuitState,
} from './circuit-breaker.ts';
export { type ModelClock, systemModelClock } from './clock.ts';
export { checkModelConfig, createModelProvider, type ModelConfig, type ModelDeps } from './create-model-provider.ts';
export { createLocalProvider, LOCAL_MODEL_ID, type LocalProviderOptions } from './local-provider.ts';
export { createOpenAIProvider, DEFAULT_OPENAI_BASE_URL, type OpenAIProviderOptions } from './openai-provider.ts';
export {
  type GenerateRequest,
  type Generation,
  type GenerationResult,
  ModelError,
  type ModelMessage,
  type ModelProvider,
} from './port.ts';
export { type ResilienceOptions, type ResilientModelProvider, withResilience } from './resilience.ts';
