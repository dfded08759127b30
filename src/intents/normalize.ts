/**
 * Text normalisation shared by the rules and the negation scope, so that
 * "I can’t breathe", "i ca n't breathe ." and "i cant breathe" look alike.
 */

const APOSTROPHES = /[\u2018\u2019\u02bc\u0060\u00b4]/g;
// Penn-style split negation: "do n't", "ca n't", "wo n't".
const SPLIT_NT = /(\w) +n't\b/g;
// Spaced clitics: "don 't", "i 'm", "it ' s".
const SPACED_CLITIC = /(\w) ?' ?(m|s|re|ve|ll|d|t)\b/g;
// Apostrophe-less contractions typed on phones.
const BARE_CONTRACTIONS: Record<string, string> = {
  im: "i'm",
  ive: "i've",
  dont: "don't",
  cant: "can't",
  doesnt: "doesn't",
  didnt: "didn't",
  isnt: "isn't",
  wasnt: "wasn't",
  arent: "aren't",
  werent: "weren't",
  havent: "haven't",
  hasnt: "hasn't",
  hadnt: "hadn't",
  couldnt: "couldn't",
  wouldnt: "wouldn't",
  wont: "won't",
};
const BARE = new RegExp(`\\b(?:${Object.keys(BARE_CONTRACTIONS).join('|')})\\b`, 'g');

/**
 * Lower-cases, straightens apostrophes, rejoins split contractions, expands
 * `can not` to `cannot`, and collapses whitespace. Punctuation is kept: the
 * negation scope ends at sentence and clause punctuation.
 */
export function normalizeText(text: string): string {
  return text
    .toLowerCase()
    .replace(APOSTROPHES, "'")
    .replace(/\s+/g, ' ')
    .replace(SPLIT_NT, "$1n't")
    .replace(SPACED_CLITIC, "$1'$2")
    .replace(/\bcan not\b/g, 'cannot')
    .replace(BARE, (word) => BARE_CONTRACTIONS[word] ?? word)
    .trim();
}
