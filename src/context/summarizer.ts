/**
 * The Summarizer port and its embedded, offline default: an extractive
 * summarizer that keeps the sentences carrying clinical facts and the
 * conversation's thread (ADR-004), within a word cap.
 */
import { clinicalSalience, isPleasantry, isShortAnswer } from './salience.ts';
import { countWords, STOP_WORDS, splitSentences, words } from './text.ts';

/** One turn handed to a summarizer. */
export interface SummaryTurn {
  number: number;
  role: string;
  text: string;
}

/** One kept sentence of an extractive summary (structured, so a refold need not re-parse text). */
export interface SummarySentence {
  /** Turn the sentence came from (for an attached answer, the question's turn). */
  turn: number;
  role: string;
  /** Detokenised sentence text, without the speaker prefix. */
  text: string;
  /** Salience scored once, when the sentence first arrived. */
  salience: number;
  /** Salience + thread + recency at the latest fold. */
  score: number;
}

/** A rolling summary. Serialisable as JSON; the optional fields are the extractive summarizer's own state. */
export interface RollingSummary {
  /** One sentence per line, each prefixed by its speaker ("Patient: ..."), in turn order. */
  text: string;
  /** Word count of `text` (runs of letters/digits, speaker labels included). */
  words: number;
  /** Last turn folded in (0 when nothing has been folded). */
  throughTurn: number;
  /** Incremented by every fold that folds at least one turn. */
  version: number;
  sentences?: SummarySentence[];
  /** [content word, number of sentences it appeared in] over everything folded, most frequent first (top 300). */
  topics?: [string, number][];
  /** The last sentence folded, when it was a question still waiting for a short answer. */
  openQuestion?: SummarySentence | null;
}

/** What the caller knows at a fold besides the turns; every field is optional and a summarizer may ignore it. */
export interface FoldContext {
  /**
   * Salience of a sentence beyond what the caller keeps elsewhere (the profile, see
   * `residualSalience`): used instead of the summarizer's own salience when ranking at this fold,
   * and a sentence that had clinical content but scores at most 0.25 here is left out as
   * already captured.
   */
  residualSalience?: (sentence: string) => number;
}

/** The summarizer port: fold new turns into the previous summary. Model-backed summarizers implement it too. */
export interface Summarizer {
  readonly kind: string;
  /** Fold `turns` (those after `previous.throughTurn`; others are ignored) into `previous`. */
  fold(previous: RollingSummary | null, turns: SummaryTurn[], context?: FoldContext): Promise<RollingSummary>;
}

/** Options of {@link createExtractiveSummarizer}. */
export interface ExtractiveSummarizerOptions {
  /** Word cap of the summary text (default 500). */
  maxWords?: number;
  /** Replaces the default clinical scorer; thread and recency bonuses are still added. */
  salience?: (sentence: string) => number;
  /** Speaker label per role, merged over the defaults (user → "User", doctor → "Doctor", ...). */
  speakerLabels?: Record<string, string>;
}

const DEFAULT_LABELS: Record<string, string> = {
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
const MAX_SENTENCE_WORDS = 60;
const MIN_SENTENCE_WORDS = 12;
/** Residual salience of a bare negation: nothing clinical left once the caller's known facts are taken out. */
const CAPTURED = 0.25;
const MAX_TOPICS = 300;
const TOPIC_WORDS = 12;

/**
 * Create the embedded extractive summarizer. Deterministic: the same previous
 * summary and turns always give the same result.
 *
 * Sentences are scored by clinical salience (see `clinicalSalience`), plus a
 * thread bonus (up to 1.5 for the conversation's most frequent content words)
 * and a recency bonus (0.75 for the newest turn, halving every 20 turns).
 * Pleasantries are dropped; a short answer ("no, not that I've noticed") is
 * attached to the question it answers; sentences with no salience and no
 * thread are dropped, and so is a repeat of a sentence already kept. When over `maxWords`, the lowest-scoring sentences go
 * first (older first on ties), then any dropped sentence that still fits is
 * put back. Kept sentences stay in conversation order. Folding is
 * incremental: previous sentences compete with new ones without re-parsing;
 * a sentence dropped once does not come back.
 *
 * @example
 * const summarizer = createExtractiveSummarizer({ maxWords: 300 });
 * let summary = await summarizer.fold(null, turns.slice(0, 20));
 * summary = await summarizer.fold(summary, turns.slice(20, 21));
 */
export function createExtractiveSummarizer(options: ExtractiveSummarizerOptions = {}): Summarizer {
  const maxWords = options.maxWords ?? 500;
  if (!Number.isInteger(maxWords) || maxWords < 10) {
    throw new TypeError(`maxWords must be an integer of at least 10 (got ${String(options.maxWords)})`);
  }
  if (options.salience !== undefined && typeof options.salience !== 'function') {
    throw new TypeError('salience must be a function (sentence: string) => number');
  }
  const score = options.salience ?? clinicalSalience;
  // A piece must leave room for others under a small cap: at most half the cap (and 60 words).
  const sentenceWords = Math.max(MIN_SENTENCE_WORDS, Math.min(MAX_SENTENCE_WORDS, Math.floor(maxWords / 2)));
  const labels = { ...DEFAULT_LABELS, ...options.speakerLabels };
  const label = (role: string): string => labels[role] ?? role.charAt(0).toUpperCase() + role.slice(1);
  const line = (s: SummarySentence): string => `${label(s.role)}: ${s.text}`;
  const labelWords = new Map<string, number>();
  const lineWords = (s: SummarySentence): number => {
    let n = labelWords.get(s.role);
    if (n === undefined) {
      n = countWords(label(s.role));
      labelWords.set(s.role, n);
    }
    return n + analyse(s.text).words;
  };

  return {
    kind: 'extractive',
    async fold(previous, turns, context = {}) {
      for (const t of turns) {
        if (!Number.isSafeInteger(t.number) || typeof t.text !== 'string' || typeof t.role !== 'string') {
          throw new TypeError(`a turn needs an integer number, a role and a text (turn ${String(t.number)})`);
        }
      }
      const prev = previous ?? emptySummary();
      const through = prev.throughTurn;
      const fresh = [...turns].filter((t) => t.number > through).sort((a, b) => a.number - b.number);
      if (fresh.length === 0) return previous ?? prev;

      let candidates = prev.sentences ? [...prev.sentences] : parseForeign(prev, labels, score);
      let open = prev.openQuestion ?? null;
      let arrived: SummarySentence[] = [];
      let lastNumber = through;
      for (const turn of fresh) {
        if (turn.number === lastNumber) continue; // duplicate turn number: first one wins
        lastNumber = turn.number;
        const sentences = splitSentences(turn.text)
          .map(condense)
          .flatMap((x) => chunk(x, sentenceWords))
          .filter((x) => x !== '');
        let last: SummarySentence | null = null;
        for (let i = 0; i < sentences.length; i++) {
          const text = sentences[i]!;
          last = null;
          if (i === 0 && open && open.role !== turn.role && isShortAnswer(text)) {
            const q = open;
            const other = (c: SummarySentence): boolean => !(c.turn === q.turn && c.text === q.text);
            candidates = candidates.filter(other);
            arrived = arrived.filter(other);
            const joined = `${q.text} ${label(turn.role)}: ${text}`;
            const unit = { turn: q.turn, role: q.role, text: joined, salience: score(joined), score: 0 };
            candidates.push(unit);
            arrived.push(unit);
          } else if (!isPleasantry(text) && !candidates.some((c) => c.text === text)) {
            last = { turn: turn.number, role: turn.role, text, salience: score(text), score: 0 };
            candidates.push(last);
            arrived.push(last);
          }
        }
        open = last?.text.endsWith('?') ? last : null;
      }

      const topics = countTopics(Array.isArray(prev.topics) ? prev.topics : [], arrived);
      const thread = topWords(topics);
      const residual = context.residualSalience;
      const scored: SummarySentence[] = [];
      for (const c of candidates) {
        let shared = 0;
        for (const w of analyse(c.text).terms) if (thread.has(w)) shared++;
        const threadBonus = Math.min(1.5, 0.5 * shared);
        const salience = residual === undefined || c.salience <= 0 ? c.salience : residual(c.text);
        // Clinical content the caller already carries (the profile) is not worth summary words.
        if (residual !== undefined && c.salience > 0 && salience <= CAPTURED) continue;
        if (salience <= 0 && threadBonus === 0) continue;
        const recency = 0.75 / (1 + (lastNumber - c.turn) / 20);
        scored.push({ ...c, score: round(salience + threadBonus + recency) });
      }

      const kept = select(scored, lineWords, maxWords);
      return {
        text: kept.map(line).join('\n'),
        words: kept.reduce((n, s) => n + lineWords(s), 0),
        throughTurn: lastNumber,
        version: prev.version + 1,
        sentences: kept,
        topics,
        openQuestion: open,
      };
    },
  };
}

function emptySummary(): RollingSummary {
  return { text: '', words: 0, throughTurn: 0, version: 0, sentences: [], topics: [], openQuestion: null };
}

/** A summary written by another summarizer: take its lines as sentences of its last turn. */
function parseForeign(
  prev: RollingSummary,
  labels: Record<string, string>,
  score: (s: string) => number,
): SummarySentence[] {
  const roleOf = new Map<string, string>();
  for (const [role, name] of Object.entries(labels))
    if (!roleOf.has(name.toLowerCase())) roleOf.set(name.toLowerCase(), role);
  return prev.text
    .split('\n')
    .flatMap((l) => {
      const m = /^([^:]{1,30}):\s+(.*)$/.exec(l.trim());
      const role = m ? (roleOf.get(m[1]!.toLowerCase()) ?? 'summary') : 'summary';
      return splitSentences(m && role !== 'summary' ? m[2]! : l).map((text) => ({ role, text }));
    })
    .map(({ role, text }) => ({ turn: prev.throughTurn, role, text, salience: score(text), score: 0 }));
}

/** Split a run-on sentence (ACI has 100-word ones) at commas, then by words, into pieces of at most `maxWords`. */
function chunk(sentence: string, maxWords: number): string[] {
  if (countWords(sentence) <= maxWords) return [sentence];
  const pieces: string[] = [];
  let current = '';
  for (const part of sentence.split(/(?<=[,;])\s+/)) {
    const next = current ? `${current} ${part}` : part;
    if (countWords(next) <= maxWords) {
      current = next;
      continue;
    }
    if (current) pieces.push(current);
    current = part;
    while (countWords(current) > maxWords) {
      const tokens = current.split(' ');
      pieces.push(tokens.slice(0, maxWords).join(' '));
      current = tokens.slice(maxWords).join(' ');
    }
  }
  if (current) pieces.push(current);
  return pieces.filter((p) => countWords(p) > 0);
}

/** Distinct content words (4+ letters, not stop words) and the word count of a sentence, memoised. */
function analyse(text: string): { terms: string[]; words: number } {
  let hit = analysed.get(text);
  if (hit === undefined) {
    const terms = new Set(words(text).filter((w) => w.length >= 4 && /^\p{L}+$/u.test(w) && !STOP_WORDS.has(w)));
    hit = { terms: [...terms], words: countWords(text) };
    analysed.set(text, hit);
    // A bounded memo: it only saves re-analysing kept sentences on every fold.
    if (analysed.size > MAX_ANALYSED) analysed.delete(analysed.keys().next().value as string);
  }
  return hit;
}
const analysed = new Map<string, { terms: string[]; words: number }>();
const MAX_ANALYSED = 20_000;

function countTopics(previous: readonly [string, number][], arrived: SummarySentence[]): [string, number][] {
  // The sentences each word arrived in at this fold (a sentence's terms are distinct).
  const added = new Map<string, number>();
  for (const s of arrived) for (const w of analyse(s.text).terms) added.set(w, (added.get(w) ?? 0) + 1);
  // An entry that did not change is shared with the previous summary (entries are never mutated), so a fold
  // allocates only what moved. Kept sorted, so the sort is near-linear on nearly sorted input.
  const list: [string, number][] = [];
  for (const entry of previous) {
    const more = added.get(entry[0]);
    if (more === undefined) list.push(entry);
    else {
      list.push([entry[0], entry[1] + more]);
      added.delete(entry[0]);
    }
  }
  for (const entry of added) list.push(entry);
  list.sort(byCountThenWord);
  if (list.length > MAX_TOPICS) list.length = MAX_TOPICS;
  return list;
}

function topWords(topics: readonly [string, number][]): Set<string> {
  const top = new Set<string>();
  for (const [w, n] of topics) {
    if (n < 2 || top.size === TOPIC_WORDS) break;
    top.add(w);
  }
  return top;
}

function byCountThenWord(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/** Drop lowest-scoring (older first on ties) until within the cap, put back what still fits, keep order. */
function select(
  sentences: SummarySentence[],
  wordsOf: (s: SummarySentence) => number,
  maxWords: number,
): SummarySentence[] {
  const sizes = sentences.map(wordsOf);
  let total = sizes.reduce((a, b) => a + b, 0);
  if (total <= maxWords) return sentences;
  const order = sentences.map((_, i) => i).sort((a, b) => sentences[a]!.score - sentences[b]!.score || a - b);
  const keep = new Array<boolean>(sentences.length).fill(true);
  const dropped: number[] = [];
  for (const i of order) {
    if (total <= maxWords) break;
    keep[i] = false;
    total -= sizes[i]!;
    dropped.push(i);
  }
  for (const i of dropped.reverse()) {
    if (total + sizes[i]! <= maxWords) {
      keep[i] = true;
      total += sizes[i]!;
    }
  }
  return sentences.filter((_, i) => keep[i]);
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

// "like" and "you know" only as fillers between commas: "i'd like to", "do you know the dose?" stay.
const FILLERS = /(?:^|(?<=[\s,]))(?:(?:um+|uh+|erm|ah|hmm+),?|(?:you know|i mean|like),)\s+/gi;
// Not "yes"/"yeah"/"no": they start the short answers that join their question.
const OPENERS = /^(?:(?:and|so|okay|ok|alright|all right|well|now|but|oh|um+|uh+)(?:,\s*|\s+))+/i;
// "twenty twenty" is a year, not a repeat.
const NUMBER_WORDS =
  /\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|oh)\b/i;
// A word or a phrase of up to 3 words said twice in a row: "i, i want", "i want, i want you".
const STUTTER = /\b([\p{L}']+(?:\s+[\p{L}']+){0,2}),?\s+\1\b/giu;
const CUT_WORD = /\b[\p{L}]{1,3}-\s+(?=[\p{L}])/gu;
const TAGS = /,?\s+(?:okay|ok|right|alright|all right)\?$/i;

/**
 * Take the spoken fillers out of a sentence, so the summary's words carry
 * content: "um", "uh", "you know", "i mean", a filler "like", a leading
 * "and so, okay,", a repeated word ("i, i want"), a cut-off word ("l- less")
 * and a trailing "okay?" (the sentence then ends with "."). Words and their
 * order are otherwise untouched.
 */
function condense(sentence: string): string {
  const out = sentence
    .replace(FILLERS, '')
    .replace(CUT_WORD, '')
    .replace(STUTTER, (said, unit: string) => (NUMBER_WORDS.test(unit) ? said : unit))
    .replace(OPENERS, '')
    .replace(TAGS, '.')
    .replace(/\s{2,}/g, ' ')
    .replace(/\s+([,.;:!?])/g, '$1')
    .replace(/^[,;:\s]+/, '')
    .trim();
  return /[\p{L}\p{N}]/u.test(out) ? out : '';
}
