/**
 * The evaluation's text normalisation and phrase matching (docs/EVALUATION.md,
 * "Gold facts and matching rule", §2). Part of the fixed rule: it is copied
 * here on purpose rather than imported from the extractor, so tuning the
 * extractor's text handling cannot move the gold standard.
 */

/** The segment-break token: phrases never match across it. */
export const BREAK = '|';

const BREAKS = /[.!?](?=\s|$)|[,;:()[\]{}"•—–\n]|\s-\s/g;

/** Plural-insensitive form of one word (§2 step 4). */
export function singular(word: string): string {
  if (word.length > 4 && /(?:ches|shes|xes|sses)$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !/(?:ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

/**
 * `N(text)`: lower case, apostrophes dropped, punctuation that separates
 * clauses turned into `|`, other symbols into spaces, words made
 * plural-insensitive, single spaces.
 *
 * @example
 * normalize("Crohn 's disease, high blood-pressures.") // → 'crohns disease | high blood pressure |'
 */
export function normalize(text: string): string {
  const words = text
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .replace(/\s+'s\b/g, "'s")
    .replace(/'/g, '')
    .replace(BREAKS, ` ${BREAK} `)
    .replace(/[^a-z0-9|]+/g, ' ')
    .split(' ')
    .filter((w) => w !== '');
  return words.map((w) => (w === BREAK ? w : singular(w))).join(' ');
}

/** The words of `N(text)`, segment breaks included as `|`. */
export function words(text: string): string[] {
  const n = normalize(text);
  return n === '' ? [] : n.split(' ');
}

/**
 * A text prepared for repeated "occurs in" checks: `N(text)` padded with
 * spaces, so a whole-word test is one substring search.
 */
export class Haystack {
  readonly #padded: string;

  constructor(text: string) {
    this.#padded = ` ${normalize(text)} `;
  }

  /** Whether an already-normalised phrase (no `|`) occurs as whole words. */
  hasNormalized(phrase: string): boolean {
    return phrase !== '' && !phrase.includes(BREAK) && this.#padded.includes(` ${phrase} `);
  }

  /** Whether `phrase` occurs in the text (§2). */
  has(phrase: string): boolean {
    return this.hasNormalized(normalize(phrase));
  }

  /** Whether any of the phrases occurs in the text. */
  hasAny(phrases: Iterable<string>): boolean {
    for (const p of phrases) if (this.has(p)) return true;
    return false;
  }
}

/**
 * Whether `phrase` occurs in `text` under the rule of §2.
 *
 * @example
 * occursIn('high blood pressure', 'History of High Blood-Pressure.') // → true
 * occursIn('statin', 'no statins') // → true (plural-insensitive)
 * occursIn('heart failure', 'heart, failure') // → false (segment break)
 */
export function occursIn(phrase: string, text: string): boolean {
  return new Haystack(text).has(phrase);
}
