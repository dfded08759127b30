/**
 * The ModelProvider port (ADR-005): a streaming chat call and a health
 * probe. Adapters: `local` (embedded, offline), `anthropic`, `bedrock`,
 * `openai` (any OpenAI-compatible server).
 */

/** One message of a prompt, as the prompt builder produces them. */
export interface ModelMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface GenerateRequest {
  messages: ModelMessage[];
  /** Upper bound on reply tokens. */
  maxTokens: number;
  /** Cancels the call (client gone and nobody else waiting, shutdown, timeout). */
  signal: AbortSignal;
  /** Free-form hints for the provider (e.g. the intent the router chose). */
  metadata?: Record<string, string>;
}

/** What a finished generation reports. */
export interface GenerationResult {
  stopReason: 'end' | 'max_tokens' | 'stop_sequence' | 'aborted' | 'other';
  usage: { inputTokens: number; outputTokens: number };
  /** The provider's model id, e.g. `claude-sonnet-4-5`, or `continuum-local`. */
  model: string;
  /** True for the embedded offline responder: it answers from the working context, not a language model. */
  offline: boolean;
}

/**
 * A streaming generation: iterate `deltas` for text as it is produced; then
 * `result` settles with the stop reason and usage. Errors (network, HTTP,
 * malformed stream) reject both with a `ModelError`.
 */
export interface Generation {
  deltas: AsyncIterable<string>;
  result: Promise<GenerationResult>;
}

export interface ModelProvider {
  readonly kind: 'local' | 'anthropic' | 'bedrock' | 'openai';
  generate(request: GenerateRequest): Generation;
  /** A cheap round trip proving the provider answers (for /readyz). */
  probe(signal: AbortSignal): Promise<void>;
}

/** Why a provider call failed; `retryable` failures before the first token may be retried. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
  readonly provider: ModelProvider['kind'];
  readonly retryable: boolean;
  readonly status: number | undefined;

  constructor(
    provider: ModelProvider['kind'],
    message: string,
    options: { retryable: boolean; status?: number; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.provider = provider;
    this.retryable = options.retryable;
    this.status = options.status;
  }
}
