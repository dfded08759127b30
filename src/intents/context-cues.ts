/**
 * Whether a match is negated or historical, in the spirit of NegEx/ConText:
 * a trigger word a few words before the match, or a denial right after it,
 * inside the same clause. Errs towards *not* negating: a missed negation
 * over-escalates, a false one would hide an emergency.
 */

// Sentence punctuation, commas, and contrastive conjunctions end a clause.
// "and" ends one only when a new subject follows ("no fever and I have ...").
const CLAUSE_BREAK =
  /[.;:!?\n,]|\b(?:but|however|although|though|yet|except|whereas|now)\b|\band (?=(?:i|i'm|my|he|she|it|it's|they|we|now|then|also)\b)/g;

const WINDOW_WORDS = 6;

// Phrases that contain a trigger word but do not negate what follows.
const PSEUDO_NEGATIONS =
  /\b(?:not sure|not certain|not even sure|(?:don't|do not|didn't|did not) (?:know|understand|realize|realise)|no idea|not only|not just|no doubt|no matter|no wonder|no relief|no better|no improvement|no help|no change|can't tell|nothing helps)\b/g;

const NEGATION_TRIGGERS =
  /\b(?:no|not|never|without|denies|denied|deny|denying|none|neither|nor|don't|doesn't|didn't|haven't|hasn't|hadn't|isn't|aren't|wasn't|weren't|free of|negative for|ruled out|no longer)\b/;

// A denial right after the match: "chest pain: none", "chest pain - denied".
const POST_NEGATION =
  /^\s*[:\-\u2013\u2014?]?\s*(?:no|none|denied|denies|negative|absent|nope)\b(?! (?:better|relief|change|improvement|help|one|matter|idea|doubt)\b)/;

// "never had chest pain like this" is a warning sign, not a denial.
const PSEUDO_AFTER =
  /^\s*(?:like (?:this|that)|this (?:bad|severe|strong|intense)|so (?:bad|severe)|before (?:today|now|this))\b/;

const HISTORICAL =
  /\b(?:\d+ (?:years?|months?) ago|years ago|months ago|last (?:year|month|summer|winter|spring|fall|autumn)|in (?:19|20)\d\d|as a (?:kid|child|teen|teenager|baby)|when i was (?:a )?(?:kid|child|teen|teenager|young|younger|little|baby|\d+)|history of|used to (?:have|get|suffer))\b/;

/** Negation and history checks over one normalised text; clause breaks are found once per text. */
export interface CueScanner {
  /** True when a negation governs the span `[start, end)`. */
  isNegated(start: number, end: number): boolean;
  /** True when the clause around `[start, end)` places it in the remote past. */
  isHistorical(start: number, end: number): boolean;
}

export function createCueScanner(text: string): CueScanner {
  let breaks: { at: number; end: number }[] | undefined;

  function clauseBounds(start: number, end: number): { from: number; to: number } {
    breaks ??= [...text.matchAll(CLAUSE_BREAK)].map((m) => ({ at: m.index, end: m.index + m[0].length }));
    // Binary search for the first break that ends after `start`.
    let low = 0;
    let high = breaks.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (breaks[mid]!.end <= start) low = mid + 1;
      else high = mid;
    }
    const from = low > 0 ? breaks[low - 1]!.end : 0;
    let to = text.length;
    for (let i = low; i < breaks.length; i += 1) {
      if (breaks[i]!.at >= end) {
        to = breaks[i]!.at;
        break;
      }
    }
    return { from, to };
  }

  return {
    isNegated(start, end) {
      const { from } = clauseBounds(start, end);
      // Look back at most 120 characters; a word cut in half there is dropped.
      const windowStart = Math.max(from, start - 120);
      const words = text
        .slice(windowStart, start)
        .replace(PSEUDO_NEGATIONS, ' ')
        .split(/\s+/)
        .filter((word) => word.length > 0);
      if (windowStart > from && !/\s/.test(text[windowStart - 1] ?? ' ')) words.shift();
      const window = words.slice(-WINDOW_WORDS).join(' ');
      const after = text.slice(end, end + 60);
      if (NEGATION_TRIGGERS.test(window)) return !PSEUDO_AFTER.test(after);
      return POST_NEGATION.test(after);
    },
    isHistorical(start, end) {
      const { from, to } = clauseBounds(start, end);
      return HISTORICAL.test(text.slice(from, to));
    },
  };
}
