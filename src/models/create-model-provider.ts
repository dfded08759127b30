import { ConfigError } from '../config/index.ts';
import { createAnthropicProvider, DEFAULT_ANTHROPIC_BASE_URL } from './anthropic-provider.ts';
import { createBedrockProvider } from './bedrock-provider.ts';
import type { ModelClock } from './clock.ts';
import { createLocalProvider } from './local-provider.ts';
import { createOpenAIProvider, DEFAULT_OPENAI_BASE_URL } from './openai-provider.ts';
import type { ModelProvider } from './port.ts';
import { type ResilienceOptions, type ResilientModelProvider, withResilience } from './resilience.ts';

/** The model settings, as `loadConfig` parses them (`CONTINUUM_MODEL` and friends). */
export interface ModelConfig {
  /** `CONTINUUM_MODEL`. */
  kind: ModelProvider['kind'];
  local?: {
    /** `CONTINUUM_LOCAL_WORD_DELAY_MS`. */
    wordDelayMs?: number;
  };
  anthropic?: {
    /** `CONTINUUM_ANTHROPIC_API_KEY`. */
    apiKey?: string;
    /** `CONTINUUM_ANTHROPIC_BASE_URL`. */
    baseURL?: string;
    /** `CONTINUUM_ANTHROPIC_MODEL`. */
    model?: string;
  };
  openai?: {
    /** `CONTINUUM_OPENAI_API_KEY`. */
    apiKey?: string;
    /** `CONTINUUM_OPENAI_BASE_URL`. */
    baseURL?: string;
    /** `CONTINUUM_OPENAI_MODEL`. */
    model?: string;
    /** `CONTINUUM_OPENAI_MAX_TOKENS_FIELD`. */
    maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  };
  bedrock?: {
    /** `CONTINUUM_BEDROCK_MODEL_ID`. */
    modelId?: string;
    /** `CONTINUUM_BEDROCK_REGION`. */
    region?: string;
    /** `CONTINUUM_BEDROCK_ENDPOINT`. */
    endpoint?: string;
    /** `CONTINUUM_BEDROCK_ACCESS_KEY_ID`. */
    accessKeyId?: string;
    /** `CONTINUUM_BEDROCK_SECRET_ACCESS_KEY`. */
    secretAccessKey?: string;
    /** `CONTINUUM_BEDROCK_SESSION_TOKEN`. */
    sessionToken?: string;
  };
  /** `CONTINUUM_MODEL_FIRST_TOKEN_TIMEOUT_MS`, `CONTINUUM_MODEL_TIMEOUT_MS`, `CONTINUUM_MODEL_MAX_RETRIES`, `CONTINUUM_MODEL_CIRCUIT_*`, `CONTINUUM_MODEL_PROBE_TIMEOUT_MS`. */
  resilience?: Omit<ResilienceOptions, 'clock' | 'random'>;
}

/** Injected time and randomness (tests). */
export interface ModelDeps {
  clock?: ModelClock;
  random?: () => number;
}

const KINDS: readonly ModelProvider['kind'][] = ['local', 'anthropic', 'bedrock', 'openai'];

/**
 * Build the configured provider, wrapped in deadlines, retries and a circuit
 * breaker ({@link withResilience}). Checks the settings first and throws one
 * `ConfigError` listing every problem with the setting to fix; no network
 * call is made here (use `probe` for readiness).
 *
 * @example
 * const model = createModelProvider({ kind: 'anthropic', anthropic: { apiKey: config.anthropicApiKey } });
 * await model.probe(AbortSignal.timeout(5_000));
 */
export function createModelProvider(config: ModelConfig, deps: ModelDeps = {}): ResilientModelProvider {
  const problems = checkModelConfig(config);
  if (problems.length > 0) throw new ConfigError(`Invalid model configuration:\n  ${problems.join('\n  ')}`);
  const resilience: ResilienceOptions = { ...config.resilience };
  if (deps.clock) resilience.clock = deps.clock;
  if (deps.random) resilience.random = deps.random;
  return withResilience(createAdapter(config, deps), resilience);
}

/** Every problem with the model settings, each naming the `CONTINUUM_*` setting to fix; empty when they are usable. */
export function checkModelConfig(config: ModelConfig): string[] {
  if (!KINDS.includes(config?.kind)) {
    return [`CONTINUUM_MODEL must be one of ${KINDS.join(', ')} (got ${JSON.stringify(config?.kind)})`];
  }
  const problems: string[] = [];
  const need = (value: string | undefined, setting: string, hint: string): void => {
    if (!value?.trim()) problems.push(`CONTINUUM_MODEL=${config.kind} needs ${setting} (${hint})`);
  };
  const url = (value: string | undefined, setting: string): void => {
    if (value !== undefined && !/^https?:\/\/[^\s/]+/.test(value)) {
      problems.push(`${setting} must be an http:// or https:// URL (got ${JSON.stringify(value)})`);
    }
  };
  switch (config.kind) {
    case 'local': {
      const delay = config.local?.wordDelayMs;
      if (delay !== undefined && !(Number.isFinite(delay) && delay >= 0)) {
        problems.push(`CONTINUUM_LOCAL_WORD_DELAY_MS must be a non-negative number of ms (got ${String(delay)})`);
      }
      break;
    }
    case 'anthropic':
      need(config.anthropic?.apiKey, 'CONTINUUM_ANTHROPIC_API_KEY', 'an Anthropic API key');
      url(config.anthropic?.baseURL, 'CONTINUUM_ANTHROPIC_BASE_URL');
      break;
    case 'openai': {
      const o = config.openai;
      need(o?.model, 'CONTINUUM_OPENAI_MODEL', 'the model name the server serves, e.g. gpt-4o-mini or llama3.1:8b');
      url(o?.baseURL, 'CONTINUUM_OPENAI_BASE_URL');
      if (!o?.apiKey?.trim() && (o?.baseURL ?? DEFAULT_OPENAI_BASE_URL) === DEFAULT_OPENAI_BASE_URL) {
        problems.push(
          'CONTINUUM_MODEL=openai needs CONTINUUM_OPENAI_API_KEY for api.openai.com (for a self-hosted server, set CONTINUUM_OPENAI_BASE_URL)',
        );
      }
      if (o?.maxTokensField !== undefined && !['max_tokens', 'max_completion_tokens'].includes(o.maxTokensField)) {
        problems.push('CONTINUUM_OPENAI_MAX_TOKENS_FIELD must be max_tokens or max_completion_tokens');
      }
      break;
    }
    case 'bedrock': {
      const b = config.bedrock;
      need(
        b?.modelId,
        'CONTINUUM_BEDROCK_MODEL_ID',
        'a model id or inference profile, e.g. us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      );
      url(b?.endpoint, 'CONTINUUM_BEDROCK_ENDPOINT');
      if (Boolean(b?.accessKeyId) !== Boolean(b?.secretAccessKey)) {
        problems.push(
          'CONTINUUM_BEDROCK_ACCESS_KEY_ID and CONTINUUM_BEDROCK_SECRET_ACCESS_KEY go together (leave both unset to use the AWS default credential chain)',
        );
      }
      if (b?.sessionToken && !b.accessKeyId) {
        problems.push(
          'CONTINUUM_BEDROCK_SESSION_TOKEN needs CONTINUUM_BEDROCK_ACCESS_KEY_ID and CONTINUUM_BEDROCK_SECRET_ACCESS_KEY',
        );
      }
      break;
    }
  }
  return problems;
}

function createAdapter(config: ModelConfig, deps: ModelDeps): ModelProvider {
  switch (config.kind) {
    case 'local':
      return createLocalProvider({
        ...(config.local?.wordDelayMs === undefined ? {} : { wordDelayMs: config.local.wordDelayMs }),
        ...(deps.clock ? { clock: deps.clock } : {}),
      });
    case 'anthropic': {
      const a = config.anthropic!;
      return createAnthropicProvider({
        apiKey: a.apiKey!,
        baseURL: a.baseURL ?? DEFAULT_ANTHROPIC_BASE_URL,
        ...(a.model ? { model: a.model } : {}),
      });
    }
    case 'openai': {
      const o = config.openai!;
      return createOpenAIProvider({
        model: o.model!,
        ...(o.apiKey ? { apiKey: o.apiKey } : {}),
        ...(o.baseURL ? { baseURL: o.baseURL } : {}),
        ...(o.maxTokensField ? { maxTokensField: o.maxTokensField } : {}),
      });
    }
    case 'bedrock': {
      const b = config.bedrock!;
      return createBedrockProvider({
        modelId: b.modelId!,
        ...(b.region ? { region: b.region } : {}),
        ...(b.endpoint ? { endpoint: b.endpoint } : {}),
        ...(b.accessKeyId && b.secretAccessKey
          ? {
              credentials: {
                accessKeyId: b.accessKeyId,
                secretAccessKey: b.secretAccessKey,
                ...(b.sessionToken ? { sessionToken: b.sessionToken } : {}),
              },
            }
          : {}),
      });
    }
  }
}
