import { ABBREVIATIONS } from '../text.ts';

/**
 * Text plumbing for the extractor: undo ACI-Bench tokenisation, turn spoken
 * numbers into digits, split sentences, and tokenise for lexicon matching.
 */

/** A sentence of a turn: its cased text, normalised lower-case text, and whether it asks something. */
export interface Sentence {
  readonly cased: string;
  readonly lower: string;
  readonly question: boolean;
}

/** A token of a normalised sentence, with its character offsets in `lower`. */
export interface Token {
  readonly text: string;
  /** Matching form: apostrophes dropped, plural `s` stripped. */
  readonly norm: string;
  readonly start: number;
  readonly end: number;
  readonly punct: boolean;
}

/** Undo ACI-Bench tokenisation ("do n't", " , ", "wan na") and collapse whitespace. */
export function detokenize(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/ ([,.;:!?%)])/g, '$1')
    .replace(/\( /g, '(')
    .replace(/\b(ca|wo|do|does|did|is|are|was|were|have|has|had|could|would|should) n't\b/gi, "$1n't")
    .replace(/ '(s|re|ve|ll|d|m)\b/gi, "'$1")
    .replace(/\b(wan|gon|got) (na|ta)\b/gi, '$1$2')
    .replace(/’/g, "'")
    .trim();
}

const UNITS: Readonly<Record<string, number>> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};
const TENS: Readonly<Record<string, number>> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};
const NUMBER_WORD =
  /\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|point|and)\b/;
const NUMBER_RUN =
  /\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-]+(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|point|and))*\b/g;
/** Words after which "one" is a pronoun, not a number ("no one", "the one"). */
const ONE_AS_PRONOUN = /\b(?:no|the|that|this|any|every|some|other|which|each|another)\s+$/;

/** Parse a run of number words ("two point five", "four hundred", "one forty"); undefined when it is not a number. */
function parseNumberWords(words: string[]): string | undefined {
  let total = 0;
  let current = 0;
  let decimals = '';
  let inDecimal = false;
  let last: 'unit' | 'ten' | 'scale' | undefined;
  for (const w of words) {
    if (w === 'and') continue;
    if (w === 'point') {
      inDecimal = true;
      continue;
    }
    const unit = UNITS[w];
    const ten = TENS[w];
    if (inDecimal) {
      if (unit === undefined || unit > 9) return undefined;
      decimals += String(unit);
      continue;
    }
    if (unit !== undefined) {
      // "twenty five" adds; "two five" reads digit by digit.
      current = last === 'unit' ? current * 10 + unit : current + unit;
      last = 'unit';
    } else if (ten !== undefined) {
      // "one forty" (140), "nineteen eighty" (1980) and "twenty twenty" (2020) are spoken in pairs.
      current = (last === 'unit' || last === 'ten') && current < 100 ? current * 100 + ten : current + ten;
      last = 'ten';
    } else if (w === 'hundred') {
      current = (current || 1) * 100;
      last = 'scale';
    } else if (w === 'thousand') {
      total += (current || 1) * 1000;
      current = 0;
      last = 'scale';
    } else return undefined;
  }
  const whole = total + current;
  return decimals === '' ? String(whole) : `${whole}.${decimals}`;
}

/** Replace spoken numbers with digits ("twenty five" → "25"); also "m g" → "mg". */
export function digitize(text: string): string {
  const lower = text.replace(/\ba (hundred|thousand)\b/g, 'one $1');
  if (!NUMBER_WORD.test(lower)) return lower.replace(/\bm\.? ?g\b\.?/g, 'mg');
  const out = lower.replace(NUMBER_RUN, (run: string, offset: number) => {
    const words = run.split(/[\s-]+/);
    const tail: string[] = [];
    while (words.at(-1) === 'and' || words.at(-1) === 'point') tail.unshift(words.pop() ?? '');
    if (words.length === 1 && words[0] === 'one' && ONE_AS_PRONOUN.test(lower.slice(0, offset))) return run;
    const value = parseNumberWords(words);
    if (value === undefined) return run;
    return tail.length > 0 ? `${value} ${tail.join(' ')}` : value;
  });
  return out.replace(/\bm\.? ?g\b\.?/g, 'mg');
}

const QUESTION_OPENER =
  /^(?:(?:and|so|okay|ok|now|also|alright|all right|well|um|uh)[ ,]+)*(?:do|does|did|are|is|were|have|has|can|could|would|will|any|anything|ever)\s+(?:you|he|she|they|your|his|her|there|the|anyone|anybody|known|other|allergies|medications?)\b/;

/** Split a detokenised turn into sentences at `.`, `!`, `?` (not after abbreviations or initials) and line breaks. */
export function splitSentences(text: string): Sentence[] {
  const out: Sentence[] = [];
  const push = (raw: string): void => {
    const cased = raw.trim().replace(/^[-–—,;:\s]+/, '');
    if (!/[a-z0-9]/i.test(cased)) return;
    const lower = digitize(cased.toLowerCase());
    // "You had asthma, correct?" asserts and asks for confirmation: a statement, not a question.
    const tag =
      /,\s*(?:correct|right|yes|true|is that (?:right|correct)|am i right|okay|ok|alright|all right|got it|sound good|does that sound good|does that make sense|understand)\s*\?\s*$/.test(
        lower,
      );
    const question = !tag && (/\?\s*["')]*$/.test(cased) || QUESTION_OPENER.test(lower));
    out.push({ cased, lower, question });
  };
  let start = 0;
  const boundary = /[.!?]+(?=\s|$)|\n+/g;
  for (let m = boundary.exec(text); m !== null; m = boundary.exec(text)) {
    const end = m.index + m[0].length;
    if (m[0] === '.' || m[0] === '.\n') {
      const head = text.slice(start, m.index);
      const raw = /([\p{L}.]+)$/u.exec(head)?.[1] ?? '';
      const before = raw.toLowerCase();
      // "J. Smith" is an initial; "starts with an L. Oh" ends a sentence.
      const initial = /^[A-Z]$/.test(raw) && !/\b(?:a|an|the|letter|with|vitamin|hepatitis|type)\s+[A-Z]$/i.test(head);
      if (ABBREVIATIONS.has(before) || initial || before.includes('.')) continue;
    }
    push(text.slice(start, end));
    start = end;
  }
  push(text.slice(start));
  return out;
}

const TOKEN = /[a-z0-9µ%]+(?:['’./&-][a-z0-9]+)*|[,;:()]|[—–]|\s-\s/g;

/** Plural/possessive-insensitive matching form of a word; applied alike to lexicon and text. */
export function normWord(word: string): string {
  const w = word.replace(/['’]/g, '');
  if (w.length > 4 && /(?:ches|shes|xes|sses)$/.test(w)) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) return w.slice(0, -1);
  return w;
}

/** Tokenise a normalised lower-case sentence. Punctuation that separates clauses is kept as tokens. */
export function tokenize(lower: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(lower); m !== null; m = TOKEN.exec(lower)) {
    const text = m[0].trim();
    const punct = !/[a-z0-9]/.test(text);
    out.push({ text, norm: punct ? text : normWord(text), start: m.index, end: m.index + m[0].length, punct });
  }
  return out;
}

/** Tokenise a lexicon phrase into matching forms. */
export function phraseKey(phrase: string): string[] {
  return tokenize(phrase.toLowerCase())
    .filter((t) => !t.punct)
    .map((t) => t.norm);
}
