/**
 * Contracts of the intent router: the rule format operators configure, what
 * a classification reports, and what the readiness probe returns.
 */

/** The intents the built-in rule set knows. Custom rules may add others. */
export type BuiltinIntent = 'emergency' | 'medication' | 'scheduling' | 'general';

/** An intent name: a built-in one or any name a custom rule introduces. */
export type IntentName = BuiltinIntent | (string & {});

/**
 * One classification rule, as written in a JSON or TS config.
 *
 * Patterns are regular-expression sources, compiled case-insensitively and
 * matched against the normalised text (lower-cased, curly apostrophes
 * straightened, split contractions such as `do n't` rejoined, whitespace
 * collapsed). A rule votes for its intent once, however many of its patterns
 * match.
 *
 * @example
 * const rule: IntentRule = {
 *   id: 'billing-invoice',
 *   intent: 'billing',
 *   patterns: ['\\binvoice', '\\bbill(?:ed|ing)?\\b'],
 *   weight: 0.8,
 * };
 */
export interface IntentRule {
  /** Unique id; a custom rule with a built-in rule's id replaces it. */
  id: string;
  intent: IntentName;
  /** Regular-expression sources (no slashes, no flags); at least one. */
  patterns: string[];
  /** Strength of the vote, in (0, 1]. Votes for one intent combine as 1 − Π(1 − weight). */
  weight: number;
  /**
   * When true, a match is ignored if a negation ("no chest pain", "denies
   * chest pain", "chest pain: none") or a remote-history cue ("years ago",
   * "history of") governs it in the same clause. Default false.
   */
  negatable?: boolean;
}

/** What the router decided about one text. */
export interface Classification {
  intent: IntentName;
  /** Combined weight of the rules that voted for `intent`, in [0, 1]; for the fallback, 1 − the best losing score. */
  confidence: number;
  /** Ids of the rules that voted for `intent` (negated matches excluded), in rule order. */
  matched: string[];
}

/** One labelled sentence of a probe set. */
export interface IntentProbe {
  text: string;
  expected: IntentName;
}

/** A probe that came out wrong. */
export interface ProbeFailure {
  text: string;
  expected: IntentName;
  /** The intent the router gave, or `error: <message>` if classifying threw. */
  got: string;
}

/** The outcome of `probe()`: `ok` only when rules are loaded and every probe is classified correctly. */
export interface ProbeResult {
  ok: boolean;
  /** How many probes were classified. */
  checked: number;
  failures: ProbeFailure[];
  /** A one-line explanation when `ok` is false (for `/readyz`). */
  detail?: string;
}

/** Classifies user turns into intents; see `createIntentRouter`. */
export interface IntentRouter {
  classify(text: string): Classification;
  /** Classifies the probe set and reports truthfully whether the router works. */
  probe(): ProbeResult;
  /** True once at least one rule is compiled. */
  readonly loaded: boolean;
  /** The rules in effect (built-ins after overrides, then custom additions). */
  readonly rules: readonly IntentRule[];
}
