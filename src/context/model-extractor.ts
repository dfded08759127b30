/**
 * A model-backed profile extractor. The model reads one turn and answers in
 * strict JSON (see `model-extractor-parse.ts` for the schema and the
 * grounding checks); the embedded extractor stays the floor: model mentions
 * only add what it missed.
 */
import type { ModelClock } from '../models/clock.ts';
import type { ModelProvider } from '../models/port.ts';
import { EXTRACTION_SYSTEM_PROMPT, parseExtraction } from './model-extractor-parse.ts';
import { askModel, ModelAnswerError, type ModelFallbackReason } from './model-summarizer.ts';
import { assertTurn, extractFacts } from './profile/extract.ts';
import { type Draft, mergeMention } from './profile/merge.ts';
import { type ApplyTurnResult, assertProfile } from './profile/profile.ts';
import { phraseKey } from './profile/text.ts';
import type { FactMention, Profile, TurnInput } from './profile/types.ts';

/** Options of {@link createModelExtractor}. */
export interface ModelExtractorOptions {
  /** The configured (non-local) model. */
  model: ModelProvider;
  /** Deadline of one model call, in ms (default 15,000). */
  timeoutMs?: number;
  /** Timers for the deadline (tests pass a manual clock). */
  clock?: ModelClock;
}

/** Extracts fact mentions of one turn with the model. */
export interface ModelExtractor {
  /**
   * The grounded mentions of `turn`. Rejects with a `ModelAnswerError`
   * (`error`, `timeout`, `empty`, `malformed`) when the answer is unusable as
   * a whole; single malformed or ungrounded items are dropped and counted.
   */
  extract(turn: TurnInput, previous?: TurnInput | readonly TurnInput[]): Promise<FactMention[]>;
  /** Items dropped as malformed or not grounded in the turn since creation. */
  readonly rejected: number;
}

const SILENT_ROLES = new Set(['assistant', 'system']);

/**
 * Create the model extractor. Assistant and system turns, and empty ones,
 * are not sent (they state no facts). Model mentions are never `explicit`:
 * they add facts and attributes but do not overrule a known fact's status.
 *
 * @example
 * const extractor = createModelExtractor({ model });
 * const mentions = await extractor.extract({ number: 4, role: 'patient', text: 'I take Eliquis 5 mg twice a day.' });
 */
export function createModelExtractor(options: ModelExtractorOptions): ModelExtractor {
  const { model } = options;
  if (typeof model?.generate !== 'function') throw new TypeError('model must be a ModelProvider');
  const timeoutMs = options.timeoutMs ?? 15_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`timeoutMs must be a positive integer (got ${String(options.timeoutMs)})`);
  }
  let rejected = 0;
  return {
    get rejected() {
      return rejected;
    },
    async extract(turn, previous) {
      assertTurn(turn);
      if (SILENT_ROLES.has(turn.role.toLowerCase()) || turn.text.trim() === '') return [];
      const history = previous === undefined ? [] : Array.isArray(previous) ? previous.slice(-2) : [previous];
      const context = history.map((t) => `${t.role}: ${t.text}`).join('\n');
      const user = `${context ? `Earlier turns (context only):\n${context}\n\n` : ''}TURN (${turn.role}):\n${turn.text}`;
      const answer = await askModel(model, {
        messages: [
          { role: 'system', content: EXTRACTION_SYSTEM_PROMPT },
          { role: 'user', content: user },
        ],
        maxTokens: 800,
        timeoutMs,
        ...(options.clock ? { clock: options.clock } : {}),
      });
      const { mentions, dropped } = parseExtraction(answer.text, turn);
      rejected += dropped;
      return mentions;
    },
  };
}

/** What {@link extractWithFallback} needs. */
export interface ExtractWithFallbackOptions {
  model: ModelExtractor;
  /** The embedded extractor (default `extractFacts`). */
  embedded?: typeof extractFacts;
  /** Called when the model's answer could not be used; the embedded mentions are returned alone. */
  onFallback?: (reason: ModelFallbackReason, error: ModelAnswerError) => void;
}

/** The mentions of one turn, and where they came from. */
export interface ExtractWithFallbackResult {
  mentions: FactMention[];
  /** Model mentions added beyond the embedded ones. */
  added: number;
  /** Why the model's answer was not used, or null. */
  fallback: ModelFallbackReason | null;
}

/**
 * Extract one turn with both extractors: the embedded one always (it is the
 * floor), plus the model's mentions of facts it missed — a model mention is
 * skipped when the embedded extractor found the same fact id, or the same
 * person by relation or name. A model failure returns the embedded mentions
 * with `fallback` set. Bad turns throw `TypeError` before the model is asked.
 *
 * @example
 * const { mentions, fallback } = await extractWithFallback(turn, tail, { model: extractor });
 */
export async function extractWithFallback(
  turn: TurnInput,
  previous: TurnInput | readonly TurnInput[] | undefined,
  options: ExtractWithFallbackOptions,
): Promise<ExtractWithFallbackResult> {
  const embedded = (options.embedded ?? extractFacts)(turn, previous === undefined ? {} : { previous });
  let extra: FactMention[];
  try {
    extra = await options.model.extract(turn, previous);
  } catch (error) {
    const failure =
      error instanceof ModelAnswerError ? error : new ModelAnswerError('error', String(error), { cause: error });
    options.onFallback?.(failure.reason, failure);
    return { mentions: embedded, added: 0, fallback: failure.reason };
  }
  const added = extra.filter((x) => !embedded.some((e) => sameFact(e, x)));
  return { mentions: [...embedded, ...added], added: added.length, fallback: null };
}

/**
 * Whether two mentions of one turn are the same fact: same id; the same
 * person by relation or by name; or, for other kinds, one's words inside the
 * other's ("diabetes" in "type 2 diabetes", "prefer morning appointments"
 * and "prefers morning appointments").
 */
function sameFact(a: FactMention, b: FactMention): boolean {
  if (a.id === b.id) return true;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'person' && b.kind === 'person') {
    if (a.name === undefined || b.name === undefined) return a.relation === b.relation;
    return words(a.name, true) === words(b.name, true);
  }
  const x = ` ${words(label(a))} `;
  const y = ` ${words(label(b))} `;
  return x.includes(y) || y.includes(x);
}

function label(f: FactMention): string {
  if (f.kind === 'allergy') return f.substance;
  if (f.kind === 'medication' || f.kind === 'condition' || f.kind === 'procedure') return f.name;
  return f.kind === 'person' ? f.relation : f.text;
}

/** Matching form of a phrase; titles off for person names. */
function words(s: string, name = false): string {
  const key = phraseKey(s);
  return (name ? key.filter((w) => !/^(?:dr|doctor|mr|mrs|ms|miss|nurse)$/.test(w)) : key).join(' ');
}

/**
 * `applyTurn` with the model: extract with {@link extractWithFallback} and
 * merge the mentions into the profile (a new object with `version + 1` when
 * anything changed).
 */
export async function applyTurnWithModel(
  profile: Profile,
  turn: TurnInput,
  options: ExtractWithFallbackOptions & { previous?: TurnInput | readonly TurnInput[] },
): Promise<ApplyTurnResult & { fallback: ModelFallbackReason | null }> {
  assertProfile(profile);
  const { mentions, fallback } = await extractWithFallback(turn, options.previous, options);
  const draft: Draft = { ...profile };
  let changed = false;
  for (const mention of mentions) if (mergeMention(draft, mention)) changed = true;
  if (!changed) return { profile, changed: false, mentions: mentions.length, fallback };
  return { profile: { ...draft, version: profile.version + 1 }, changed: true, mentions: mentions.length, fallback };
}

export { EXTRACTION_SCHEMA, EXTRACTION_SYSTEM_PROMPT, parseExtraction } from './model-extractor-parse.ts';
