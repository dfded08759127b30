/**
 * The built-in probe set behind `/readyz`'s `intentRouter` check: labelled
 * sentences across every built-in intent, including negations, false
 * friends and tokenised text, so a router that is loaded but wrong (a broken
 * rule set, a bad override) is reported as not ready.
 */
import type { Classification, IntentProbe, ProbeFailure, ProbeResult } from './types.ts';

export const BUILTIN_PROBES: readonly IntentProbe[] = Object.freeze([
  { text: 'I have crushing chest pain and my left arm feels numb', expected: 'emergency' },
  { text: "i ca n't breathe even when i 'm sitting still .", expected: 'emergency' },
  { text: 'My dad’s face is drooping and his speech is slurred', expected: 'emergency' },
  { text: 'I want to kill myself', expected: 'emergency' },
  { text: "I've been thinking about suicide a lot lately", expected: 'emergency' },
  { text: 'My throat is closing up after eating peanuts', expected: 'emergency' },
  { text: 'She took a whole bottle of sleeping pills', expected: 'emergency' },
  { text: 'My son is having a seizure right now', expected: 'emergency' },
  { text: 'No chest pain today, I just need a refill of my lisinopril', expected: 'medication' },
  { text: "I'm dying to try that new cafe downtown", expected: 'general' },
  { text: "I don't want to die, I'm just nervous about the surgery", expected: 'general' },
  { text: 'I forgot to take my metformin this morning, should I double up?', expected: 'medication' },
  { text: 'Can I take ibuprofen with my blood pressure medication?', expected: 'medication' },
  { text: 'What are the side effects of sertraline?', expected: 'medication' },
  { text: 'i need to reschedule my appointment on friday', expected: 'scheduling' },
  { text: 'Can I book a check-up for next Tuesday at 3pm?', expected: 'scheduling' },
  { text: 'Is Dr. Patel available next week?', expected: 'scheduling' },
  { text: 'Thanks for explaining my lab results so clearly', expected: 'general' },
  { text: 'What foods are high in fiber?', expected: 'general' },
  { text: "I can't breathe through my nose because of this cold", expected: 'general' },
]);

/**
 * Classifies every probe and reports the truth: `ok` only when rules are
 * loaded and every probe comes out as labelled. A classifier that throws
 * counts as a failure of that probe, not as a crash of the readiness check.
 */
export function runIntentProbes(
  classify: (text: string) => Classification,
  probes: readonly IntentProbe[],
  loaded: boolean,
): ProbeResult {
  const failures: ProbeFailure[] = [];
  for (const { text, expected } of probes) {
    let got: string;
    try {
      got = classify(text).intent;
    } catch (error) {
      got = `error: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (got !== expected) failures.push({ text, expected, got });
  }
  const ok = loaded && probes.length > 0 && failures.length === 0;
  const result: ProbeResult = { ok, checked: probes.length, failures };
  if (!loaded) result.detail = 'intent router has no rules loaded';
  else if (probes.length === 0) result.detail = 'intent router has no probes to check';
  else if (failures.length > 0) {
    const first = failures[0]!;
    result.detail =
      `${failures.length} of ${probes.length} intent probes misclassified; ` +
      `first: "${first.text}" expected ${first.expected}, got ${first.got}`;
  }
  return result;
}
