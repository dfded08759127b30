/**
 * What each intent changes about a reply: a system-prompt addition, whether
 * the turn is escalated (flagged, an escalation event published, an alert
 * raised), and an optional cap on reply length.
 */
import type { BuiltinIntent, IntentName } from './types.ts';

/** How a turn of one intent is handled. */
export interface IntentHandling {
  /** Appended to the base system prompt for this turn. */
  systemPrompt: string;
  /** True: flag the turn, publish an escalation event and raise an alert. */
  escalate: boolean;
  /** Upper bound on reply tokens for this intent, when it should be short. */
  maxReplyTokens?: number;
}

/** Handling of the built-in intents. */
export const INTENT_HANDLING: Readonly<Record<BuiltinIntent, Readonly<IntentHandling>>> = Object.freeze({
  emergency: Object.freeze({
    systemPrompt: [
      'The user may be describing a medical emergency or a risk of self-harm.',
      'Start your reply by telling them to call emergency services immediately (911 in the US and Canada, 112 in',
      'the EU, 999 in the UK, or their local emergency number) or to have someone take them to the nearest',
      'emergency department now. If they mention suicide or self-harm, also give a crisis line (988 in the US),',
      'ask them to stay with someone, and keep a calm, caring tone.',
      'Do not diagnose, do not guess at causes, do not reassure them that it is probably nothing, and do not',
      'suggest waiting to see if it passes. Keep the reply short and give only simple safety steps while help is',
      'on the way. A clinician has been alerted.',
    ].join(' '),
    escalate: true,
    maxReplyTokens: 200,
  }),
  medication: Object.freeze({
    systemPrompt: [
      "The user is asking about medication. Use the patient's recorded medications and allergies from the context.",
      'Give general information only: do not tell them to start, stop or change a dose; refer dose changes,',
      'missed-dose decisions you are unsure of and possible interactions to their prescriber or pharmacist.',
      'If they describe a severe reaction (swelling of the face or throat, trouble breathing), tell them to call',
      'emergency services.',
    ].join(' '),
    escalate: false,
    maxReplyTokens: 400,
  }),
  scheduling: Object.freeze({
    systemPrompt: [
      'The user wants to book, change, cancel or ask about an appointment. Confirm the details they gave (who,',
      'what kind of visit, date and time) and say what happens next. Do not claim a booking is made unless the',
      'context shows it was.',
    ].join(' '),
    escalate: false,
    maxReplyTokens: 200,
  }),
  general: Object.freeze({
    systemPrompt: 'Answer helpfully and briefly from the conversation context; do not give a diagnosis.',
    escalate: false,
  }),
});

/**
 * The handling for an intent: `overrides` first (for custom intents or a
 * tenant's own prompts), then the built-ins, then `general` for unknown
 * intents — so an unmapped custom intent never escalates by accident and
 * never loses the general guidance.
 *
 * @example
 * const { systemPrompt, escalate } = handlingFor(router.classify(text).intent);
 */
export function handlingFor(
  intent: IntentName,
  overrides: Readonly<Record<string, IntentHandling>> = {},
): Readonly<IntentHandling> {
  if (Object.hasOwn(overrides, intent)) return overrides[intent]!;
  if (Object.hasOwn(INTENT_HANDLING, intent)) return INTENT_HANDLING[intent as BuiltinIntent];
  return INTENT_HANDLING.general;
}
