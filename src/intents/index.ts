/**
 * Intent routing: classify each user turn (emergency, medication,
 * scheduling, general, or custom intents), pick its system prompt and
 * handling, and prove readiness with a built-in probe set.
 */

export {
  createModelIntentClassifier,
  type ModelIntentClassifier,
  type ModelIntentsOptions,
} from './model-classifier.ts';
export { normalizeText } from './normalize.ts';
export { BUILTIN_PROBES, runIntentProbes } from './probe-set.ts';
export type { IntentHandling } from './prompts.ts';
export { handlingFor, INTENT_HANDLING } from './prompts.ts';
export type { IntentRouterOptions } from './router.ts';
export { BUILTIN_INTENT_RULES, createIntentRouter, FALLBACK_INTENT, PRECEDENCE } from './router.ts';
export { mergeIntentRules, parseIntentRules } from './rules.ts';
export type {
  BuiltinIntent,
  Classification,
  IntentName,
  IntentProbe,
  IntentRouter,
  IntentRule,
  ProbeFailure,
  ProbeResult,
} from './types.ts';
