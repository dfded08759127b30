/**
 * Any OpenAI-compatible chat server (OpenAI, vLLM, Ollama, llama.cpp) through
 * the official `openai` SDK's chat.completions streaming
 * (`CONTINUUM_MODEL=openai`).
 */
import OpenAI, { APIError, APIUserAbortError } from 'openai';
import { checkRequest, isRetryableStatus, streamGeneration, truncatedStream, usageOrEstimate } from './generation.ts';
import {
  type GenerateRequest,
  type Generation,
  type GenerationResult,
  ModelError,
  type ModelProvider,
} from './port.ts';

export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';

/** Sent when a self-hosted server needs no key: the SDK refuses an empty one. */
export const NO_API_KEY = 'not-needed';

export interface OpenAIProviderOptions {
  /** The model name the server serves (`gpt-4o-mini`, `llama3.1:8b`, ...). */
  model: string;
  /** Required by api.openai.com; self-hosted servers usually take none. */
  apiKey?: string;
  /** Default `https://api.openai.com/v1`; e.g. `http://localhost:11434/v1` for Ollama. */
  baseURL?: string;
  /**
   * The request field that caps the reply: `max_tokens` (default; what vLLM,
   * Ollama and llama.cpp read) or `max_completion_tokens` (what OpenAI's
   * reasoning models require).
   */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** The SDK's own cap on one HTTP request, in ms (default 10 minutes); the resilience wrapper sets the real deadlines. */
  requestTimeoutMs?: number;
  /** Bound on the health probe, in ms (default 5,000). */
  probeTimeoutMs?: number;
}

/**
 * Create the OpenAI-compatible adapter. Messages go as they are (system
 * messages in place); usage comes from the final chunk
 * (`stream_options.include_usage`), or is counted here when the server sends
 * none. The SDK's own retries are off.
 *
 * @example
 * const model = createOpenAIProvider({ baseURL: 'http://localhost:11434/v1', model: 'llama3.1:8b' });
 */
export function createOpenAIProvider(options: OpenAIProviderOptions): ModelProvider {
  if (typeof options?.model !== 'string' || options.model.trim() === '') {
    throw new TypeError('createOpenAIProvider needs a model (CONTINUUM_OPENAI_MODEL)');
  }
  const model = options.model;
  const maxTokensField = options.maxTokensField ?? 'max_tokens';
  const probeTimeoutMs = options.probeTimeoutMs ?? 5_000;
  const client = new OpenAI({
    apiKey: options.apiKey || NO_API_KEY,
    baseURL: options.baseURL ?? DEFAULT_OPENAI_BASE_URL,
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: options.requestTimeoutMs ?? 600_000,
    // The SDK would log unparseable stream data, which may hold patient text.
    logLevel: 'off',
  });

  return {
    kind: 'openai',
    generate(request: GenerateRequest): Generation {
      checkRequest(request);
      return streamGeneration({
        provider: 'openai',
        request,
        model,
        toModelError: toOpenAIError,
        async run(sink) {
          const stream = await client.chat.completions.create(
            {
              model,
              messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
              [maxTokensField]: request.maxTokens,
              stream: true,
              stream_options: { include_usage: true },
            },
            { signal: request.signal },
          );
          let reported = model;
          let inputTokens: number | undefined;
          let outputTokens: number | undefined;
          let stopReason: GenerationResult['stopReason'] | undefined;
          for await (const chunk of stream) {
            if (chunk.model) reported = chunk.model;
            const choice = chunk.choices?.[0];
            const content = choice?.delta?.content;
            if (typeof content === 'string') sink.emit(content);
            if (choice?.finish_reason) stopReason = mapFinishReason(choice.finish_reason);
            if (chunk.usage) {
              inputTokens = chunk.usage.prompt_tokens;
              outputTokens = chunk.usage.completion_tokens;
            }
          }
          if (request.signal.aborted) throw request.signal.reason;
          // The SDK ends quietly when the body ends without `[DONE]`; a reply with no finish_reason was cut.
          if (stopReason === undefined) throw truncatedStream('openai', 'a finish_reason');
          return {
            stopReason,
            usage: usageOrEstimate(request, sink.text, { inputTokens, outputTokens }),
            model: reported,
            offline: false,
          };
        },
      });
    },
    async probe(signal: AbortSignal): Promise<void> {
      try {
        await client.models.list({ signal, timeout: probeTimeoutMs, maxRetries: 0 });
      } catch (error) {
        throw toOpenAIError(error);
      }
    },
  };
}

function mapFinishReason(reason: string): GenerationResult['stopReason'] {
  switch (reason) {
    case 'stop':
      return 'end';
    case 'length':
      return 'max_tokens';
    default:
      return 'other';
  }
}

/** SDK, network and parsing errors → `ModelError` (408, 409, 429, 5xx, connection → retryable; other 4xx → not). */
export function toOpenAIError(error: unknown): ModelError {
  if (error instanceof ModelError) return error;
  if (error instanceof APIUserAbortError) {
    return new ModelError('openai', 'openai: request aborted', { retryable: false, cause: error });
  }
  if (error instanceof APIError) {
    const status = error.status;
    return new ModelError('openai', `openai: ${error.message}`, {
      retryable: isRetryableStatus(status),
      ...(status === undefined ? {} : { status }),
      cause: error,
    });
  }
  if (error instanceof SyntaxError) {
    return new ModelError('openai', `openai: malformed stream (${error.message})`, { retryable: true, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ModelError('openai', `openai: ${message}`, { retryable: true, cause: error });
}
