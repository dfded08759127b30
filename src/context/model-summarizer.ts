/**
 * A model-backed Summarizer: the configured language model rewrites the
 * rolling summary with the new turns, and the embedded summarizer takes over
 * whenever the model fails, is too slow, or answers with nothing usable.
 * Also holds `askModel`, the bounded one-shot call the model extractor shares.
 */
import { type ModelClock, systemModelClock } from '../models/clock.ts';
import type { ModelMessage, ModelProvider } from '../models/port.ts';
import type { RollingSummary, Summarizer, SummaryTurn } from './summarizer.ts';
import { countWords } from './text.ts';

/** Why a model-backed context component used its embedded fallback. */
export type ModelFallbackReason = 'error' | 'timeout' | 'empty' | 'too_long' | 'malformed';

/** A model answer that cannot be used; `reason` says why (and is what fallbacks report). */
export class ModelAnswerError extends Error {
  override readonly name = 'ModelAnswerError';
  readonly reason: ModelFallbackReason;

  constructor(reason: ModelFallbackReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** One bounded call of {@link askModel}. */
export interface AskModelRequest {
  messages: ModelMessage[];
  maxTokens: number;
  /** Whole-call deadline in ms; the call is aborted when it passes. */
  timeoutMs: number;
  clock?: ModelClock;
}

/**
 * Ask the model once and collect its whole answer. Rejects with a
 * {@link ModelAnswerError}: `timeout` past the deadline (the call is aborted),
 * `error` for any provider failure or abort. `truncated` is true when the
 * model stopped at `maxTokens`.
 */
export async function askModel(
  model: ModelProvider,
  request: AskModelRequest,
): Promise<{ text: string; truncated: boolean }> {
  const clock = request.clock ?? systemModelClock;
  const controller = new AbortController();
  const timedOut = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  timedOut.catch(() => {});
  const cancel = clock.setTimeout(() => {
    controller.abort(
      new ModelAnswerError('timeout', `the model gave no complete answer within ${request.timeoutMs} ms`),
    );
  }, request.timeoutMs);
  try {
    const generation = model.generate({
      messages: request.messages,
      maxTokens: request.maxTokens,
      signal: controller.signal,
    });
    generation.result.catch(() => {});
    let text = '';
    const read = (async () => {
      for await (const delta of generation.deltas) text += delta;
      return generation.result;
    })();
    read.catch(() => {});
    // The race keeps a provider that ignores the abort from holding the caller past the deadline.
    const result = await Promise.race([read, timedOut]);
    if (result.stopReason === 'aborted') throw new ModelAnswerError('error', 'the model call was aborted');
    return { text, truncated: result.stopReason === 'max_tokens' };
  } catch (error) {
    if (controller.signal.aborted && controller.signal.reason instanceof ModelAnswerError)
      throw controller.signal.reason;
    if (error instanceof ModelAnswerError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ModelAnswerError('error', `the model call failed: ${message}`, { cause: error });
  } finally {
    cancel();
  }
}

/** Options of {@link createModelSummarizer}. */
export interface ModelSummarizerOptions {
  /** The configured (non-local) model. */
  model: ModelProvider;
  /** Used whenever the model's answer cannot be used; normally `createExtractiveSummarizer()`. */
  fallback: Summarizer;
  /** Word budget of the summary (default 500); answers over 1.5 × this fall back. */
  maxWords?: number;
  /** Deadline of one model call, in ms (default 30,000). */
  timeoutMs?: number;
  /** Called once per fold that used the fallback (metrics, logs). */
  onFallback?: (reason: ModelFallbackReason, error: ModelAnswerError) => void;
  /** Timers for the deadline (tests pass a manual clock). */
  clock?: ModelClock;
}

/** A {@link Summarizer} backed by a model, with a count of the folds that fell back. */
export interface ModelSummarizer extends Summarizer {
  readonly kind: 'model';
  /** Folds that used the fallback since creation. */
  readonly fallbacks: number;
}

/** The fixed instructions of every fold. `{maxWords}` is filled in. */
export const SUMMARY_SYSTEM_PROMPT = [
  'You maintain the rolling summary of a conversation between a patient (or their family) and a clinical assistant or clinician.',
  'You are given the current summary (possibly empty) and the new turns. Write the updated summary.',
  'Rules:',
  '- At most {maxWords} words. Plain sentences, no headings, no markdown, no preamble.',
  '- Keep every medication with its dose, frequency and whether it was started, stopped or denied.',
  '- Keep every allergy with its reaction, and every denied allergy.',
  '- Keep conditions and symptoms (with whether they are current, resolved or denied), procedures, family history, the people involved and their relation to the patient, dates, and stated preferences.',
  '- Keep the open questions and what was decided or planned.',
  '- When a new turn changes an earlier fact (a dose changed, a medication stopped), state the current fact and drop the outdated one.',
  '- Use only what the summary and the turns say. Never invent, guess or add advice. If something is uncertain, say it was uncertain.',
  '- When space runs short, drop small talk first, never clinical facts.',
  'Answer with the summary text only.',
].join('\n');

const LABELS: Record<string, string> = {
  user: 'User',
  patient: 'Patient',
  clinician: 'Clinician',
  doctor: 'Doctor',
  assistant: 'Assistant',
  system: 'System',
  guest_family: 'Family member',
  patient_guest: 'Companion',
  guest_clinician: 'Clinician',
};

const label = (role: string): string => LABELS[role] ?? role.charAt(0).toUpperCase() + role.slice(1);

/**
 * Create a summarizer that folds turns by asking the model to rewrite the
 * summary (see {@link SUMMARY_SYSTEM_PROMPT}). Falls back to
 * `options.fallback.fold(previous, turns)` on any model failure, on the
 * deadline, and on an empty answer or one over 1.5 × `maxWords` words (or cut
 * at the token limit). A summary written by the model carries only `text`,
 * `words`, `throughTurn` and `version`; the extractive summarizer reads such
 * a summary's text as its starting sentences, so the two can alternate.
 *
 * @example
 * const summarizer = createModelSummarizer({
 *   model: createModelProvider(config.model),
 *   fallback: createExtractiveSummarizer({ maxWords: 400 }),
 *   maxWords: 400,
 *   onFallback: (reason) => metrics.summarizerFallback.inc({ reason }),
 * });
 */
export function createModelSummarizer(options: ModelSummarizerOptions): ModelSummarizer {
  const { model, fallback } = options;
  if (typeof model?.generate !== 'function') throw new TypeError('model must be a ModelProvider');
  if (typeof fallback?.fold !== 'function')
    throw new TypeError('fallback must be a Summarizer (e.g. createExtractiveSummarizer())');
  const maxWords = options.maxWords ?? 500;
  if (!Number.isInteger(maxWords) || maxWords < 10) {
    throw new TypeError(`maxWords must be an integer of at least 10 (got ${String(options.maxWords)})`);
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`timeoutMs must be a positive integer (got ${String(options.timeoutMs)})`);
  }
  const system = SUMMARY_SYSTEM_PROMPT.replace('{maxWords}', String(maxWords));
  const limit = Math.floor(maxWords * 1.5);
  let fallbacks = 0;

  const viaModel = async (previous: RollingSummary | null, fresh: SummaryTurn[]): Promise<string> => {
    const lines = fresh.map((t) => `[${t.number}] ${label(t.role)}: ${t.text.replace(/\s+/g, ' ').trim()}`);
    const current = previous?.text.trim() ? previous.text.trim() : '(empty)';
    const user = `Current summary:\n${current}\n\nNew turns:\n${lines.join('\n')}\n\nWrite the updated summary in at most ${maxWords} words.`;
    const answer = await askModel(model, {
      messages: [
        { role: 'system', content: system },
        { role: 'user', content: user },
      ],
      // About 1.3 tokens a word; room for 1.5 × the budget so a cut answer means a too-long one.
      maxTokens: Math.ceil(limit * 2) + 64,
      timeoutMs,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    const text = cleanSummary(answer.text);
    if (text === '') throw new ModelAnswerError('empty', 'the model answered with an empty summary');
    if (answer.truncated) throw new ModelAnswerError('too_long', 'the model summary was cut at the token limit');
    const n = countWords(text);
    if (n > limit) throw new ModelAnswerError('too_long', `the model summary has ${n} words (limit ${limit})`);
    return text;
  };

  return {
    kind: 'model',
    get fallbacks() {
      return fallbacks;
    },
    async fold(previous, turns) {
      for (const t of turns) {
        if (!Number.isSafeInteger(t.number) || typeof t.text !== 'string' || typeof t.role !== 'string') {
          throw new TypeError(`a turn needs an integer number, a role and a text (turn ${String(t.number)})`);
        }
      }
      const through = previous?.throughTurn ?? 0;
      const fresh: SummaryTurn[] = [];
      for (const t of [...turns].filter((x) => x.number > through).sort((a, b) => a.number - b.number)) {
        if (fresh.at(-1)?.number !== t.number) fresh.push(t); // duplicate turn number: first one wins
      }
      const last = fresh.at(-1);
      if (last === undefined) return previous ?? { text: '', words: 0, throughTurn: 0, version: 0 };
      try {
        const text = await viaModel(previous, fresh);
        return { text, words: countWords(text), throughTurn: last.number, version: (previous?.version ?? 0) + 1 };
      } catch (error) {
        const failure =
          error instanceof ModelAnswerError ? error : new ModelAnswerError('error', String(error), { cause: error });
        fallbacks++;
        options.onFallback?.(failure.reason, failure);
        return fallback.fold(previous, turns);
      }
    },
  };
}

/** Trim an answer and take off what models add around it (a code fence, a "Summary:" heading). */
function cleanSummary(text: string): string {
  return text
    .trim()
    .replace(/^```[a-z]*\n?|\n?```$/g, '')
    .replace(/^(?:updated )?summary:\s*/i, '')
    .trim();
}
