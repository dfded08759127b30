/**
 * Sentence analysis shared by every extractor: tokens, lexicon term hits,
 * cue hits, clause boundaries, and the leading "yes/no" of an answer.
 */
import { cueTrie, type Senses, termTrie } from './lexicon/index.ts';
import type { CueType } from './lexicon/patterns.ts';
import { type Sentence, type Token, tokenize } from './text.ts';

/** A lexicon term found in a sentence (token span `[start, end)`). */
export interface TermHit {
  readonly senses: Senses;
  readonly start: number;
  readonly end: number;
}

/** A cue phrase found in a sentence. */
export interface CueHit {
  readonly types: readonly CueType[];
  readonly start: number;
  readonly end: number;
}

/** Everything the extractors need to know about one sentence. */
export interface Analysis {
  readonly sentence: Sentence;
  readonly tokens: readonly Token[];
  readonly terms: readonly TermHit[];
  readonly cues: readonly CueHit[];
  /** Clause number of each token. */
  readonly clause: readonly number[];
  /** Tokens at the start that are an answer word ("no,", "yes,") rather than part of the statement. */
  readonly lead: number;
  /** "yes"/"no" when the sentence opens with an answer word. */
  readonly polarity?: 'yes' | 'no';
}

const PRONOUNS = new Set([
  'i',
  'im',
  'ive',
  'id',
  'ill',
  'he',
  'hes',
  'she',
  'shes',
  'we',
  'were',
  'weve',
  'they',
  'theyre',
  'it',
  'its',
  'you',
  'youre',
  'that',
  'thats',
  'this',
  'there',
  'theres',
  'my',
  'me',
]);
const FILLERS = new Set([
  'um',
  'uh',
  'hm',
  'hmm',
  'oh',
  'well',
  'so',
  'okay',
  'ok',
  'ah',
  'mm',
  'like',
  'and',
  'sir',
  'doctor',
  "ma'am",
  'maam',
]);
const YES = new Set([
  'yes',
  'yeah',
  'yep',
  'yup',
  'yea',
  'mm-hmm',
  'uh-huh',
  'mhm',
  'correct',
  'right',
  'sure',
  'absolutely',
  'definitely',
]);
const NO = new Set(['no', 'nope', 'nah', 'none', 'never', 'negative', 'nothing']);
const NO_PHRASES =
  /^(?:(?:um|uh|hm+|oh|well|so)[ ,]+)*(?:not really|not that i (?:know|am aware|'m aware|recall|remember)|i don'?t think so|i do not think so|i (?:do not|don'?t|haven'?t|have not|didn'?t|did not|am not)|i'?m not|not at all|not any|not to my knowledge|none that i know)\b/;
const YES_PHRASES =
  /^(?:(?:um|uh|hm+|oh|well|so)[ ,]+)*(?:i (?:do|am|have|did)\b(?! not| n)|i think so|i believe so|that(?:'?s| is) (?:right|correct)|of course|i'?m on|you got it|that'?s it|that'?s the one|that one)/;

function clauses(tokens: readonly Token[], cues: readonly CueHit[]): number[] {
  const termStarts = new Set(cues.filter((c) => c.types.includes('term')).map((c) => c.start));
  const out: number[] = [];
  let n = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const next = tokens[i + 1];
    const nextNext = tokens[i + 2];
    if (t.punct && t.text !== ',') n++;
    else if (t.text === ',' && next !== undefined && (PRONOUNS.has(next.norm) || next.text === 'but')) n++;
    else if (
      (t.text === 'and' || t.text === 'then') &&
      next !== undefined &&
      PRONOUNS.has(next.norm) &&
      next.norm !== 'my'
    )
      n++;
    else if (termStarts.has(i) && i > 0) n++;
    else if (t.text === ',' && nextNext !== undefined && next?.text === 'and' && PRONOUNS.has(nextNext.norm)) n++;
    out.push(n);
  }
  return out;
}

function leadOf(tokens: readonly Token[], lower: string): { lead: number; polarity?: 'yes' | 'no' } {
  let i = 0;
  let polarity: 'yes' | 'no' | undefined;
  while (i < tokens.length) {
    const t = tokens[i] as Token;
    const next = tokens[i + 1];
    if (t.punct || FILLERS.has(t.text)) {
      i++;
      continue;
    }
    const isYes = YES.has(t.text);
    const isNo = NO.has(t.text);
    if (!isYes && !isNo) break;
    // "no allergies" negates its object: only a bare or comma-separated "no" is an answer word.
    const bare =
      next === undefined ||
      next.punct ||
      PRONOUNS.has(next.norm) ||
      NO.has(next.text) ||
      YES.has(next.text) ||
      FILLERS.has(next.text);
    if (!bare && isNo) {
      polarity ??= 'no';
      break;
    }
    polarity ??= isYes ? 'yes' : 'no';
    i++;
  }
  if (polarity === undefined) {
    if (NO_PHRASES.test(lower)) polarity = 'no';
    else if (YES_PHRASES.test(lower)) polarity = 'yes';
  }
  return polarity === undefined ? { lead: i } : { lead: i, polarity };
}

/** Analyse one sentence. */
export function analyze(sentence: Sentence): Analysis {
  const tokens = tokenize(sentence.lower);
  const terms = termTrie()
    .matchAll(tokens)
    .filter((m) => m.value.ignore === undefined || Object.keys(m.value).length > 1)
    .map((m) => ({ senses: m.value, start: m.start, end: m.end }));
  const cues = cueTrie()
    .matchAll(tokens)
    .map((m) => ({ types: m.value, start: m.start, end: m.end }));
  const { lead, polarity } = leadOf(tokens, sentence.lower);
  const base = { sentence, tokens, terms, cues, clause: clauses(tokens, cues), lead };
  return polarity === undefined ? base : { ...base, polarity };
}

/** Cue hits of one clause that lie after the answer lead. */
export function cuesIn(a: Analysis, clause: number): CueHit[] {
  return a.cues.filter((c) => c.start >= a.lead && a.clause[c.start] === clause);
}

/** Whether a clause has a cue of the given type. */
export function clauseHas(a: Analysis, clause: number, type: CueType): boolean {
  return cuesIn(a, clause).some((c) => c.types.includes(type));
}
