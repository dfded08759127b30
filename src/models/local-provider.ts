/**
 * The embedded offline responder (`CONTINUUM_MODEL=local`): no network, no
 * weights. It answers from the working context in the prompt with templated
 * sentences, streamed word by word, so a fresh machine runs end to end. Use
 * a real model in production.
 */
import { countMessageTokens, countTokens } from '../context/tokens.ts';
import { type ModelClock, sleep, systemModelClock } from './clock.ts';
import { checkRequest, streamGeneration } from './generation.ts';
import { composeLocalReply } from './local-reply.ts';
import { type GenerateRequest, type Generation, ModelError, type ModelProvider } from './port.ts';

/** The model id the offline responder reports. */
export const LOCAL_MODEL_ID = 'continuum-local';

export interface LocalProviderOptions {
  /** Pause between words, in ms (default 15). 0 streams as fast as the event loop allows. */
  wordDelayMs?: number;
  /** Timers for the pacing (a fake one in tests). */
  clock?: ModelClock;
}

/**
 * Create the offline responder. Its replies acknowledge the last user
 * message, restate the profile facts that bear on it (medications for a
 * dose question, allergies, conditions, or facts sharing its words; else an
 * overview), quote a matching earlier turn, and say that it is an offline
 * responder and a clinician should be consulted. `result.offline` is true.
 *
 * @example
 * const model = createLocalProvider({ wordDelayMs: 0 });
 * const gen = model.generate({ messages, maxTokens: 512, signal: AbortSignal.timeout(10_000) });
 * for await (const delta of gen.deltas) process.stdout.write(delta);
 * console.log((await gen.result).usage);
 */
export function createLocalProvider(options: LocalProviderOptions = {}): ModelProvider {
  const wordDelayMs = options.wordDelayMs ?? 15;
  if (!Number.isFinite(wordDelayMs) || wordDelayMs < 0) {
    throw new TypeError(`wordDelayMs must be a non-negative number of milliseconds (got ${String(wordDelayMs)})`);
  }
  const clock = options.clock ?? systemModelClock;

  return {
    kind: 'local',
    generate(request: GenerateRequest): Generation {
      checkRequest(request);
      return streamGeneration({
        provider: 'local',
        request,
        model: LOCAL_MODEL_ID,
        offline: true,
        toModelError: (error) => new ModelError('local', `local: ${String(error)}`, { retryable: false, cause: error }),
        async run(sink) {
          const reply = composeLocalReply(request.messages, request.metadata);
          const { words, truncated } = fitWords(reply, request.maxTokens);
          for (let i = 0; i < words.length; i++) {
            // The first word goes out at once; later ones at the configured pace (or one event-loop turn apart).
            if (i > 0 && wordDelayMs > 0) await sleep(clock, wordDelayMs, request.signal);
            else if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
            if (request.signal.aborted) throw request.signal.reason;
            sink.emit(words[i]!);
          }
          return {
            stopReason: truncated ? 'max_tokens' : 'end',
            usage: { inputTokens: countMessageTokens(request.messages), outputTokens: countTokens(sink.text) },
            model: LOCAL_MODEL_ID,
            offline: true,
          };
        },
      });
    },
    async probe(signal: AbortSignal): Promise<void> {
      if (signal.aborted) throw new ModelError('local', 'local: probe aborted', { retryable: false });
    },
  };
}

/** The reply's words (each with its trailing whitespace), cut to at most `maxTokens` tokens. */
function fitWords(reply: string, maxTokens: number): { words: string[]; truncated: boolean } {
  const words = reply.match(/\S+\s*/g) ?? [];
  if (countTokens(reply) <= maxTokens) return { words, truncated: false };
  let text = '';
  const kept: string[] = [];
  for (const word of words) {
    if (countTokens(text + word) > maxTokens) break;
    text += word;
    kept.push(word);
  }
  return { words: kept, truncated: true };
}
