/**
 * Claude (or any Converse-capable model) on Amazon Bedrock through
 * `@aws-sdk/client-bedrock-runtime` ConverseStream (`CONTINUUM_MODEL=bedrock`).
 */
import {
  BedrockRuntimeClient,
  type BedrockRuntimeClientConfig,
  ConverseCommand,
  ConverseStreamCommand,
  CountTokensCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { claudeStopReason, splitSystem } from './chat-turns.ts';
import { checkRequest, isRetryableStatus, streamGeneration, truncatedStream, usageOrEstimate } from './generation.ts';
import {
  type GenerateRequest,
  type Generation,
  type GenerationResult,
  ModelError,
  type ModelProvider,
} from './port.ts';

export const DEFAULT_BEDROCK_REGION = 'us-east-1';

export interface BedrockProviderOptions {
  /** A model id or inference profile, e.g. `us.anthropic.claude-sonnet-4-5-20250929-v1:0`. */
  modelId: string;
  /** Default `us-east-1`. */
  region?: string;
  /** Overrides the regional endpoint (a VPC endpoint, a proxy, a test fake). */
  endpoint?: string;
  /** Static credentials; without them the AWS default chain (env, profile, SSO, instance role) is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Concurrent HTTP connections to Bedrock (default 256): one per streaming generation. */
  maxSockets?: number;
  /** Bound on the health probe, in ms (default 5,000). */
  probeTimeoutMs?: number;
}

/** Bedrock exceptions worth another attempt whatever their HTTP status. */
const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelNotReadyException',
  'ModelTimeoutException',
  'ModelStreamErrorException',
]);

/**
 * Create the Bedrock adapter. System messages join into one `system` block;
 * requests go over HTTP/1.1 (`NodeHttpHandler`, keep-alive) rather than the
 * client's default HTTP/2, so plain-HTTP endpoints work too; the SDK's own
 * retries are off. The probe is a free CountTokens call, falling back to a
 * one-token Converse for models that cannot count.
 *
 * @example
 * const model = createBedrockProvider({ region: 'us-west-2', modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' });
 */
export function createBedrockProvider(options: BedrockProviderOptions): ModelProvider {
  if (typeof options?.modelId !== 'string' || options.modelId.trim() === '') {
    throw new TypeError('createBedrockProvider needs a modelId (CONTINUUM_BEDROCK_MODEL_ID)');
  }
  const { modelId } = options;
  const creds = options.credentials;
  if (creds && (!creds.accessKeyId || !creds.secretAccessKey)) {
    throw new TypeError('Bedrock static credentials need both an access key id and a secret access key');
  }
  const maxSockets = options.maxSockets ?? 256;
  const probeTimeoutMs = options.probeTimeoutMs ?? 5_000;
  const config: BedrockRuntimeClientConfig = {
    region: options.region ?? DEFAULT_BEDROCK_REGION,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: { keepAlive: true, maxSockets },
      httpsAgent: { keepAlive: true, maxSockets },
    }),
  };
  if (options.endpoint) config.endpoint = options.endpoint;
  if (creds) {
    config.credentials = {
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      ...(creds.sessionToken ? { sessionToken: creds.sessionToken } : {}),
    };
  }
  const client = new BedrockRuntimeClient(config);

  return {
    kind: 'bedrock',
    generate(request: GenerateRequest): Generation {
      checkRequest(request);
      const prompt = splitSystem(request.messages);
      return streamGeneration({
        provider: 'bedrock',
        request,
        model: modelId,
        toModelError: toBedrockError,
        async run(sink) {
          const response = await client.send(
            new ConverseStreamCommand({
              modelId,
              messages: prompt.turns.map((t) => ({ role: t.role, content: [{ text: t.content }] })),
              ...(prompt.system ? { system: [{ text: prompt.system }] } : {}),
              inferenceConfig: { maxTokens: request.maxTokens },
            }),
            { abortSignal: request.signal },
          );
          if (!response.stream) throw truncatedStream('bedrock', 'any event');
          let inputTokens: number | undefined;
          let outputTokens: number | undefined;
          let stopReason: GenerationResult['stopReason'] | undefined;
          for await (const event of response.stream) {
            const text = event.contentBlockDelta?.delta?.text;
            if (typeof text === 'string') sink.emit(text);
            if (event.messageStop) stopReason = claudeStopReason(event.messageStop.stopReason);
            if (event.metadata?.usage) {
              inputTokens = event.metadata.usage.inputTokens;
              outputTokens = event.metadata.usage.outputTokens;
            }
            const failure =
              event.internalServerException ??
              event.modelStreamErrorException ??
              event.serviceUnavailableException ??
              event.throttlingException ??
              event.validationException;
            if (failure) throw failure;
          }
          if (request.signal.aborted) throw request.signal.reason;
          if (stopReason === undefined) throw truncatedStream('bedrock', 'messageStop');
          return {
            stopReason,
            usage: usageOrEstimate(request, sink.text, { inputTokens, outputTokens }),
            model: modelId,
            offline: false,
          };
        },
      });
    },
    async probe(signal: AbortSignal): Promise<void> {
      const bounded = AbortSignal.any([signal, AbortSignal.timeout(probeTimeoutMs)]);
      const messages = [{ role: 'user' as const, content: [{ text: 'ping' }] }];
      try {
        try {
          await client.send(new CountTokensCommand({ modelId, input: { converse: { messages } } }), {
            abortSignal: bounded,
          });
        } catch (error) {
          if ((error as { name?: unknown })?.name !== 'ValidationException') throw error;
          await client.send(new ConverseCommand({ modelId, messages, inferenceConfig: { maxTokens: 1 } }), {
            abortSignal: bounded,
          });
        }
      } catch (error) {
        throw toBedrockError(error);
      }
    },
  };
}

/** AWS SDK, network and event-stream errors → `ModelError` (throttling, 5xx, stream errors, connection → retryable). */
export function toBedrockError(error: unknown): ModelError {
  if (error instanceof ModelError) return error;
  const e = error as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } };
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  const message = typeof e?.message === 'string' && e.message ? e.message : String(error);
  const raw = e?.$metadata?.httpStatusCode;
  // An exception inside an event stream arrives on an HTTP 200 response: that status says nothing.
  const status = typeof raw === 'number' && raw >= 400 ? raw : undefined;
  return new ModelError('bedrock', `bedrock: ${name}: ${message}`, {
    retryable: RETRYABLE_NAMES.has(name) || isRetryableStatus(status),
    ...(status === undefined ? {} : { status }),
    cause: error,
  });
}
