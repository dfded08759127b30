/**
 * Small text helpers shared by the summarizer and the search index: sentence
 * splitting that copes with ACI-Bench's space-tokenised punctuation, light
 * detokenisation, word counting and an English stop-word list.
 */

/** Abbreviations whose trailing dot does not end a sentence. */
export const ABBREVIATIONS: ReadonlySet<string> = new Set([
  'dr',
  'mr',
  'mrs',
  'ms',
  'st',
  'jr',
  'sr',
  'vs',
  'etc',
  'approx',
  'e.g',
  'i.e',
  'p.m',
  'a.m',
]);

const WORD = /[\p{L}\p{N}]+(?:['’.-][\p{L}\p{N}]+)*/gu;

/** Count the words in a text: runs of letters/digits, so ACI's " , " and " . " do not count. */
export function countWords(text: string): number {
  let n = 0;
  WORD.lastIndex = 0;
  while (WORD.exec(text) !== null) n++;
  return n;
}

/**
 * Undo ACI-Bench tokenisation ("hi , martha ." → "hi, martha.", "do n't" →
 * "don't", "gon na" → "gonna") and collapse whitespace. Other words are
 * untouched, so a fact matcher sees the same words.
 */
export function detokenize(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/ ([,.;:!?%)])/g, '$1')
    .replace(/\( /g, '(')
    .replace(/ n't\b/g, "n't")
    .replace(/\b(wan|gon|got) na\b/g, '$1na')
    .trim();
}

/**
 * Split a text into sentences. A boundary is `.`, `!` or `?` (possibly
 * repeated) followed by whitespace and not preceded by a known abbreviation
 * or a single-letter initial; ACI's "word . next" is a boundary too. Returns
 * detokenised, trimmed, non-empty sentences in order.
 */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  const boundary = /[.!?]+(?=\s|$)/g;
  let start = 0;
  for (let m = boundary.exec(text); m !== null; m = boundary.exec(text)) {
    const end = m.index + m[0].length;
    if (m[0] === '.' && isAbbreviation(text, m.index)) continue;
    push(out, text.slice(start, end));
    start = end;
  }
  push(out, text.slice(start));
  return out;
}

function isAbbreviation(text: string, dot: number): boolean {
  if (dot > 0 && /\s/.test(text[dot - 1] ?? '')) return false; // "word ." is ACI's full stop
  const before = /([\p{L}.]+)$/u.exec(text.slice(Math.max(0, dot - 8), dot));
  const word = before?.[1]?.toLowerCase() ?? '';
  if (word.length === 1 && /\p{Lu}/u.test(before?.[1] ?? '')) return true; // initial: "J. Smith"
  if (word === 'no') return /^\s+\d/.test(text.slice(dot + 1));
  return ABBREVIATIONS.has(word);
}

function push(out: string[], raw: string): void {
  const sentence = detokenize(raw);
  if (/[\p{L}\p{N}]/u.test(sentence)) out.push(sentence);
}

/** Lower-case, strip diacritics and surrounding punctuation. */
export function normalizeTerm(term: string): string {
  if (/^[a-z0-9]+$/.test(term)) return term; // the common case, cheaply
  return term
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
}

/** Words of a text, normalised, in order (duplicates kept). */
export function words(text: string): string[] {
  const found = text.match(WORD) ?? [];
  return found.map(normalizeTerm).filter((w) => w.length > 0);
}

/** A compact English stop-word list (function words plus chat fillers). */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again against all also am an and any are aren as at be because been before being below ' +
    'between both but by can cannot could couldn d did didn do does doesn doing don down during each few for from ' +
    'further had hadn has hasn have haven having he her here hers herself him himself his how i if in into is isn it ' +
    'its itself just ll m me might more most mustn my myself no nor not now o of off on once only or other our ours ' +
    'ourselves out over own re s same shan she should shouldn so some such t than that the their theirs them ' +
    'themselves then there these they this those through to too under until up ve very was wasn we were weren what ' +
    'when where which while who whom why will with won would wouldn y you your yours yourself yourselves ' +
    'okay ok um uh yeah yes yep hmm mm mhm oh hi hello hey thanks thank please alright right well gonna wanna ' +
    'got get like really sure kind sort let lot going know think mean'
  ).split(' '),
);
