/**
 * The intent router: weighted, negation-aware rules classify each user turn;
 * `emergency` takes precedence over every other intent.
 */
import { type CueScanner, createCueScanner } from './context-cues.ts';
import { EMERGENCY_RULES } from './emergency-rules.ts';
import { normalizeText } from './normalize.ts';
import { BUILTIN_PROBES, runIntentProbes } from './probe-set.ts';
import { MEDICATION_RULES, SCHEDULING_RULES } from './routine-rules.ts';
import { type CompiledRule, compileIntentRules, mergeIntentRules, parseIntentRules } from './rules.ts';
import type { Classification, IntentName, IntentProbe, IntentRouter, IntentRule } from './types.ts';

/** The built-in rule set: emergency, medication and scheduling rules (`general` is the fallback). */
// Run through the same validation as custom rules, which also deep-freezes them.
export const BUILTIN_INTENT_RULES: readonly IntentRule[] = Object.freeze(
  parseIntentRules([...EMERGENCY_RULES, ...MEDICATION_RULES, ...SCHEDULING_RULES]),
);

/** The intent every text falls back to when no intent reaches the threshold. */
export const FALLBACK_INTENT = 'general';

/** Intents that win whenever they reach the threshold, in this order, whatever the other scores. */
export const PRECEDENCE: readonly IntentName[] = Object.freeze(['emergency']);

export interface IntentRouterOptions {
  /** Custom rules: a rule with a built-in id replaces it, others are added. Validated eagerly. */
  rules?: IntentRule[];
  /** Start from the built-in rules (default true). False uses only `rules`. */
  includeBuiltins?: boolean;
  /** Score an intent needs to be chosen, in (0, 1] (default 0.5). */
  threshold?: number;
  /** Labelled sentences `probe()` checks (default `BUILTIN_PROBES`). */
  probes?: readonly IntentProbe[];
}

/**
 * True when at least one occurrence of the rule's patterns counts (is not negated or historical).
 * The compiled regexes (flags `gi`) are stepped with `exec` from `lastIndex` 0 rather than `matchAll`, which
 * would clone every regex on every call; classification is synchronous, so sharing them is safe.
 */
function ruleFires(compiled: CompiledRule, text: string, cues: CueScanner): boolean {
  for (const regex of compiled.regexes) {
    regex.lastIndex = 0;
    for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
      const start = match.index;
      const end = start + match[0].length;
      if (!compiled.rule.negatable || (!cues.isNegated(start, end) && !cues.isHistorical(start, end))) {
        regex.lastIndex = 0;
        return true;
      }
      // An empty match would match again where it stands (matchAll steps past it the same way).
      if (end === start) regex.lastIndex = end + 1;
    }
  }
  return false;
}

function pickIntent(scores: Map<IntentName, number>, threshold: number): IntentName | undefined {
  for (const intent of PRECEDENCE) {
    if ((scores.get(intent) ?? 0) >= threshold) return intent;
  }
  let best: IntentName | undefined;
  let bestScore = threshold;
  // Map order is first-rule order, so ties go to the intent whose rules come first.
  for (const [intent, score] of scores) {
    if (score > bestScore || (best === undefined && score >= bestScore)) {
      best = intent;
      bestScore = score;
    }
  }
  return best;
}

const round = (value: number): number => Math.round(value * 1000) / 1000;

/**
 * Creates an intent router. Options are checked eagerly: a bad rule throws a
 * `TypeError` naming the rule and what is wrong with it.
 *
 * @example
 * const router = createIntentRouter();
 * router.classify('i have chest pain .');
 * // → { intent: 'emergency', confidence: 1, matched: ['emergency.chest-pain'] }
 * router.probe().ok; // true: the built-in probe set is classified correctly
 */
export function createIntentRouter(options: IntentRouterOptions = {}): IntentRouter {
  const threshold = options.threshold ?? 0.5;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1)) {
    throw new TypeError(`intent router threshold must be a number in (0, 1] (got ${String(threshold)})`);
  }
  if (options.rules !== undefined && !Array.isArray(options.rules)) {
    throw new TypeError('intent router rules must be an array of IntentRule');
  }
  const custom = parseIntentRules(options.rules ?? []);
  const base = options.includeBuiltins === false ? [] : BUILTIN_INTENT_RULES;
  const rules = Object.freeze(mergeIntentRules(base, custom));
  const compiled = compileIntentRules(rules);
  const probes = options.probes ?? BUILTIN_PROBES;
  const loaded = compiled.length > 0;

  function classify(text: string): Classification {
    if (typeof text !== 'string') throw new TypeError('classify(text) expects a string');
    const normalized = normalizeText(text);
    const cues = createCueScanner(normalized);
    const scores = new Map<IntentName, number>();
    const votes = new Map<IntentName, string[]>();
    for (const entry of compiled) {
      const { intent, weight, id } = entry.rule;
      if (!ruleFires(entry, normalized, cues)) continue;
      // Noisy-OR: independent cues for one intent reinforce without passing 1.
      scores.set(intent, 1 - (1 - (scores.get(intent) ?? 0)) * (1 - weight));
      votes.set(intent, [...(votes.get(intent) ?? []), id]);
    }
    const chosen = pickIntent(scores, threshold);
    if (chosen !== undefined) {
      return { intent: chosen, confidence: round(scores.get(chosen) ?? 0), matched: votes.get(chosen) ?? [] };
    }
    const strongest = Math.max(0, ...scores.values());
    return {
      intent: FALLBACK_INTENT,
      confidence: round(1 - strongest),
      matched: votes.get(FALLBACK_INTENT) ?? [],
    };
  }

  return {
    classify,
    probe: () => runIntentProbes(classify, probes, loaded),
    loaded,
    rules,
  };
}
