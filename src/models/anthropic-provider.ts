/**
 * Claude through the official `@anthropic-ai/sdk` Messages API, streamed
 * (`CONTINUUM_MODEL=anthropic`). Any server speaking that API works through
 * `baseURL`.
 */
import Anthropic, { APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import { claudeStopReason, splitSystem } from './chat-turns.ts';
import { checkRequest, isRetryableStatus, streamGeneration, truncatedStream, usageOrEstimate } from './generation.ts';
import {
  type GenerateRequest,
  type Generation,
  type GenerationResult,
  ModelError,
  type ModelProvider,
} from './port.ts';

/** The model used when none is configured (a current Sonnet in the SDK's model list; `claude-sonnet-4-5` reaches end of life on 2026-11-30). */
export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-5-5';
export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

export interface AnthropicProviderOptions {
  apiKey: string;
  /** Default `https://api.anthropic.com`; a proxy or a test fake otherwise. */
  baseURL?: string;
  /** Default {@link DEFAULT_ANTHROPIC_MODEL}. */
  model?: string;
  /** The SDK's own cap on one HTTP request, in ms (default 10 minutes); the resilience wrapper sets the real deadlines. */
  requestTimeoutMs?: number;
  /** Bound on the health probe, in ms (default 5,000). */
  probeTimeoutMs?: number;
}

/**
 * Create the Anthropic adapter. System messages are joined into the
 * `system` parameter; the SDK's own retries are off (the resilience wrapper
 * retries, before the first token only).
 *
 * @example
 * const claude = createAnthropicProvider({ apiKey: config.anthropicApiKey, model: 'claude-sonnet-4-5' });
 */
export function createAnthropicProvider(options: AnthropicProviderOptions): ModelProvider {
  if (typeof options?.apiKey !== 'string' || options.apiKey.trim() === '') {
    throw new TypeError('createAnthropicProvider needs an apiKey (CONTINUUM_ANTHROPIC_API_KEY)');
  }
  const model = options.model ?? DEFAULT_ANTHROPIC_MODEL;
  const probeTimeoutMs = options.probeTimeoutMs ?? 5_000;
  const client = new Anthropic({
    apiKey: options.apiKey,
    baseURL: options.baseURL ?? DEFAULT_ANTHROPIC_BASE_URL,
    maxRetries: 0,
    timeout: options.requestTimeoutMs ?? 600_000,
    // The SDK would log unparseable stream data, which may hold patient text.
    logLevel: 'off',
  });

  return {
    kind: 'anthropic',
    generate(request: GenerateRequest): Generation {
      checkRequest(request);
      const prompt = splitSystem(request.messages);
      return streamGeneration({
        provider: 'anthropic',
        request,
        model,
        toModelError: toAnthropicError,
        async run(sink) {
          const stream = await client.messages.create(
            {
              model,
              max_tokens: request.maxTokens,
              messages: prompt.turns,
              ...(prompt.system ? { system: prompt.system } : {}),
              stream: true,
            },
            { signal: request.signal },
          );
          let reported = model;
          let inputTokens: number | undefined;
          let outputTokens: number | undefined;
          let stopReason: GenerationResult['stopReason'] | undefined;
          let finished = false;
          for await (const event of stream) {
            switch (event.type) {
              case 'message_start':
                reported = event.message.model || model;
                inputTokens = event.message.usage.input_tokens;
                break;
              case 'content_block_delta':
                if (event.delta.type === 'text_delta') sink.emit(event.delta.text);
                break;
              case 'message_delta':
                stopReason = claudeStopReason(event.delta.stop_reason);
                outputTokens = event.usage.output_tokens ?? outputTokens;
                if (typeof event.usage.input_tokens === 'number') inputTokens = event.usage.input_tokens;
                break;
              case 'message_stop':
                finished = true;
                break;
            }
          }
          if (request.signal.aborted) throw request.signal.reason;
          if (!finished || stopReason === undefined) throw truncatedStream('anthropic', 'message_stop');
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
        await client.models.list({ limit: 1 }, { signal, timeout: probeTimeoutMs, maxRetries: 0 });
      } catch (error) {
        throw toAnthropicError(error);
      }
    },
  };
}

/** SDK, network and parsing errors → `ModelError` (429, 5xx, 529, connection → retryable; other 4xx → not). */
export function toAnthropicError(error: unknown): ModelError {
  if (error instanceof ModelError) return error;
  if (error instanceof APIUserAbortError) {
    return new ModelError('anthropic', 'anthropic: request aborted', { retryable: false, cause: error });
  }
  if (error instanceof APIError) {
    const status = error.status;
    const detail = [status, error.type, error.apiMessage ?? error.message].filter((p) => p !== undefined && p !== null);
    return new ModelError('anthropic', `anthropic: ${detail.join(' ')}`, {
      retryable: isRetryableStatus(status),
      ...(status === undefined ? {} : { status }),
      cause: error,
    });
  }
  if (error instanceof SyntaxError) {
    return new ModelError('anthropic', `anthropic: malformed stream (${error.message})`, {
      retryable: true,
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ModelError('anthropic', `anthropic: ${message}`, { retryable: true, cause: error });
}
