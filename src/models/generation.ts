/**
 * The machinery every adapter shares: a one-reader queue of text deltas, the
 * `Generation` built around a provider's streaming loop, and the checks on a
 * request.
 */
import { countMessageTokens, countTokens } from '../context/tokens.ts';
import {
  type GenerateRequest,
  type Generation,
  type GenerationResult,
  ModelError,
  type ModelProvider,
} from './port.ts';

type Kind = ModelProvider['kind'];

/**
 * Text deltas waiting for their reader. It may be iterated once; deltas
 * produced before the reader arrives are buffered. A reader that stops early
 * (`break`) does not cancel the generation — abort the request's signal for
 * that.
 */
export class DeltaQueue implements AsyncIterable<string> {
  #buffer: string[] = [];
  #done = false;
  #error: unknown = undefined;
  #failed = false;
  #detached = false;
  #iterated = false;
  #waiting: (() => void)[] = [];

  push(text: string): void {
    if (this.#done || this.#detached || text.length === 0) return;
    this.#buffer.push(text);
    this.#notify();
  }

  end(): void {
    this.#done = true;
    this.#notify();
  }

  fail(error: unknown): void {
    if (this.#done) return;
    this.#failed = true;
    this.#error = error;
    this.#done = true;
    this.#notify();
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    if (this.#iterated) throw new TypeError('the deltas of a generation can be iterated only once');
    this.#iterated = true;
    return {
      next: async (): Promise<IteratorResult<string>> => {
        while (true) {
          const value = this.#buffer.shift();
          if (value !== undefined) return { value, done: false };
          if (this.#done) {
            if (this.#failed) {
              this.#failed = false;
              throw this.#error;
            }
            return { value: undefined, done: true };
          }
          await new Promise<void>((resolve) => {
            this.#waiting.push(resolve);
          });
        }
      },
      return: async (): Promise<IteratorResult<string>> => {
        this.#detached = true;
        this.#buffer = [];
        return { value: undefined, done: true };
      },
    };
  }

  #notify(): void {
    for (const wake of this.#waiting.splice(0)) wake();
  }
}

/** What a provider's streaming loop writes to while it runs. */
export interface GenerationSink {
  /** Hand one text delta to the reader (empty strings are ignored). */
  emit(text: string): void;
  /** Every delta so far, joined. */
  readonly text: string;
}

export interface StreamGenerationOptions {
  provider: Kind;
  request: GenerateRequest;
  /** Model id reported when the generation is aborted before the provider named one. */
  model: string;
  offline?: boolean;
  /** Maps an error the loop threw (SDK, network, parsing) to a `ModelError`. */
  toModelError(error: unknown): ModelError;
  /**
   * The provider's loop: emit deltas, return the result. It must throw when
   * the stream ends without its terminal event (a cut connection), so a
   * truncated reply is never reported as complete.
   */
  run(sink: GenerationSink): Promise<GenerationResult>;
}

/**
 * Start a provider's streaming loop now and expose it as a `Generation`.
 * Errors reject `result` and make the `deltas` iteration throw the same
 * `ModelError`. When the request's signal aborts, the deltas end and `result`
 * resolves with `stopReason: 'aborted'` and the usage so far.
 */
export function streamGeneration(options: StreamGenerationOptions): Generation {
  const { request } = options;
  const deltas = new DeltaQueue();
  let text = '';
  const sink: GenerationSink = {
    emit(delta) {
      if (typeof delta !== 'string' || delta.length === 0) return;
      text += delta;
      deltas.push(delta);
    },
    get text() {
      return text;
    },
  };
  const result = (async (): Promise<GenerationResult> => {
    try {
      const outcome = await options.run(sink);
      deltas.end();
      return outcome;
    } catch (error) {
      if (request.signal.aborted) {
        deltas.end();
        return {
          stopReason: 'aborted',
          usage: { inputTokens: countMessageTokens(request.messages), outputTokens: countTokens(text) },
          model: options.model,
          offline: options.offline ?? false,
        };
      }
      const failure = error instanceof ModelError ? error : options.toModelError(error);
      deltas.fail(failure);
      throw failure;
    }
  })();
  // A caller who only iterates the deltas sees the error there; do not also report it as unhandled.
  result.catch(() => {});
  return { deltas, result };
}

/** Throws `TypeError` for a malformed request (caller misuse, not a provider failure). */
export function checkRequest(request: GenerateRequest): void {
  if (request === null || typeof request !== 'object') throw new TypeError('generate expects a request object');
  if (!Array.isArray(request.messages) || request.messages.length === 0) {
    throw new TypeError('request.messages must be a non-empty array');
  }
  for (const m of request.messages) {
    if (m === null || typeof m !== 'object' || typeof m.content !== 'string') {
      throw new TypeError('every message needs a string content');
    }
    if (m.role !== 'system' && m.role !== 'user' && m.role !== 'assistant') {
      throw new TypeError(`unknown message role ${JSON.stringify(m.role)}`);
    }
  }
  if (!Number.isInteger(request.maxTokens) || request.maxTokens <= 0) {
    throw new TypeError(`request.maxTokens must be a positive integer (got ${String(request.maxTokens)})`);
  }
  if (!(request.signal instanceof AbortSignal)) throw new TypeError('request.signal must be an AbortSignal');
}

/** HTTP statuses worth another attempt: timeouts, conflicts, throttling, server errors (and Anthropic's 529). */
export function isRetryableStatus(status: number | undefined): boolean {
  if (status === undefined) return true;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The error for a stream that ended without its terminal event. */
export function truncatedStream(provider: Kind, what: string): ModelError {
  return new ModelError(provider, `${provider}: the stream ended before ${what} (connection cut?)`, {
    retryable: true,
  });
}

/** The provider's usage when it reported some, else our own count. */
export function usageOrEstimate(
  request: GenerateRequest,
  text: string,
  reported: { inputTokens?: number | undefined; outputTokens?: number | undefined },
): GenerationResult['usage'] {
  return {
    inputTokens: reported.inputTokens ?? countMessageTokens(request.messages),
    outputTokens: reported.outputTokens ?? countTokens(text),
  };
}
