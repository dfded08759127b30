/**
 * The model's second opinion on a user turn the rules could not place. The
 * rules stay the floor: an emergency they find is never downgraded, and the
 * model is asked only about turns the rules left at the fallback intent.
 * What the model may add is an intent the rules missed — above all an
 * emergency phrased in words no rule knows.
 */
import { askModel, ModelAnswerError, type ModelFallbackReason } from '../context/model-summarizer.ts';
import type { ModelClock } from '../models/clock.ts';
import type { ModelProvider } from '../models/port.ts';
import { FALLBACK_INTENT } from './router.ts';
import type { Classification, IntentName, IntentRouter } from './types.ts';

export interface ModelIntentsOptions {
  /** The configured (non-local) model. */
  model: ModelProvider;
  /** The rule router whose fallback answers the model reconsiders. */
  router: IntentRouter;
  /** Deadline of one model call, in ms (default 3,000): past it, the rules' answer stands. */
  timeoutMs?: number;
  clock?: ModelClock;
  /** Told why a model answer was not used. */
  onFallback?: (reason: ModelFallbackReason) => void;
}

/** Classifies with the rules, and with the model when the rules fall back. */
export interface ModelIntentClassifier {
  classify(text: string): Promise<Classification>;
}

const SYSTEM_PROMPT = (intents: readonly IntentName[]) =>
  [
    'You sort messages that patients send to a clinical assistant. Read the message and answer with one JSON object',
    `and nothing else: {"intent": "<one of ${intents.map((i) => `"${i}"`).join(', ')}>"}.`,
    'emergency: a possible medical emergency now or a risk of self-harm (for example chest pain, stroke signs,',
    'severe bleeding, trouble breathing, suicidal thoughts). medication: about their medicines (doses, refills,',
    'side effects). scheduling: appointments and visits. general: anything else. When unsure between emergency',
    'and another intent, answer emergency.',
  ].join(' ');

/**
 * Wrap `router` with the model.
 *
 * @example
 * const intents = createModelIntentClassifier({ model, router: createIntentRouter() });
 * const { intent } = await intents.classify('My left side went numb and my speech is slurred.');
 */
export function createModelIntentClassifier(options: ModelIntentsOptions): ModelIntentClassifier {
  const { model, router } = options;
  if (typeof model?.generate !== 'function') throw new TypeError('model must be a ModelProvider');
  const timeoutMs = options.timeoutMs ?? 3_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a positive integer');
  const intents = [...new Set(router.rules.map((rule) => rule.intent)), FALLBACK_INTENT];
  return {
    async classify(text) {
      const byRules = router.classify(text);
      if (byRules.intent !== FALLBACK_INTENT || text.trim() === '') return byRules;
      try {
        const answer = await askModel(model, {
          messages: [
            { role: 'system', content: SYSTEM_PROMPT(intents) },
            { role: 'user', content: text },
          ],
          maxTokens: 20,
          timeoutMs,
          ...(options.clock ? { clock: options.clock } : {}),
        });
        const intent = parseIntent(answer.text, intents);
        if (intent === FALLBACK_INTENT) return byRules;
        return { intent, confidence: byRules.confidence, matched: ['model'] };
      } catch (error) {
        options.onFallback?.(error instanceof ModelAnswerError ? error.reason : 'error');
        return byRules;
      }
    },
  };
}

/** The intent of a `{"intent": "..."}` answer (a bare intent name is accepted too). */
function parseIntent(text: string, intents: readonly IntentName[]): IntentName {
  const trimmed = text.trim();
  let value: unknown = trimmed;
  const json = trimmed.match(/\{[\s\S]*\}/);
  if (json) {
    try {
      value = (JSON.parse(json[0]) as { intent?: unknown }).intent;
    } catch {
      throw new ModelAnswerError('malformed', 'the intent answer is not JSON');
    }
  }
  const name = typeof value === 'string' ? value.trim().toLowerCase().replace(/^"|"$/g, '') : '';
  if (!intents.includes(name)) throw new ModelAnswerError('malformed', `the model answered an unknown intent`);
  return name;
}
