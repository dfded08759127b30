/**
 * The profile extractor: one turn in, fact mentions out. Lexicons and cue
 * patterns find medications, allergies, conditions, procedures and people;
 * compromise finds dates, names, organizations and places, only in the
 * sentences that need it.
 */
import { analyze } from './analyze.ts';
import { answerFacts, askedAllergens, lastRelationOf, openQuestion } from './answers.ts';
import { clinicalFacts, type TurnContext } from './clinical.ts';
import { peopleIn } from './family.ts';
import { nlpFacts } from './nlp.ts';
import { preferenceFacts, valueFacts } from './other.ts';
import { detokenize, splitSentences } from './text.ts';
import type { FactMention, TurnInput } from './types.ts';

/** Options of `extractFacts`. */
export interface ExtractOptions {
  /**
   * The turn just before this one, or the recent turns (oldest first; the
   * last six are read). When they asked a question ("Any known drug
   * allergies?") a short answer ("No.") is read against it, and the topic
   * carries over clarifications ("Naprosyn?" — "Yes, Naprosyn.").
   */
  previous?: TurnInput | readonly TurnInput[];
}

/** Speakers whose statements are about the patient from the patient's side. */
const PATIENT_ROLES = new Set(['patient', 'user', 'guest_family', 'patient_guest', 'family', 'caregiver']);
/** Speakers whose statements about the patient count too ("you're on lisinopril"). */
const CLINICIAN_ROLES = new Set(['doctor', 'clinician', 'guest_clinician', 'nurse', 'physician', 'provider']);

/** Throw `TypeError` unless `turn` is a well-formed turn. */
export function assertTurn(turn: unknown, name = 'turn'): asserts turn is TurnInput {
  const t = turn as Partial<TurnInput> | null;
  if (typeof t !== 'object' || t === null) throw new TypeError(`${name} must be an object`);
  if (typeof t.number !== 'number' || !Number.isInteger(t.number) || t.number < 0)
    throw new TypeError(`${name}.number must be a non-negative integer`);
  if (typeof t.role !== 'string' || t.role === '') throw new TypeError(`${name}.role must be a non-empty string`);
  if (typeof t.text !== 'string') throw new TypeError(`${name}.text must be a string`);
  if (t.at !== undefined && (typeof t.at !== 'string' || Number.isNaN(Date.parse(t.at))))
    throw new TypeError(`${name}.at must be an ISO date-time string`);
}

/**
 * Extract the fact mentions of one turn. Patient-side and clinician turns
 * state facts; questions ("are you taking aspirin?") state none, but are
 * kept as context for the next turn's answer. Assistant and system turns
 * state no facts.
 *
 * @example
 * extractFacts({ number: 3, role: 'patient', text: "I take metformin 500 mg twice a day." })
 * // → [{ kind: 'medication', id: 'med:metformin', name: 'metformin', dose: '500 mg',
 * //      frequency: 'twice daily', status: 'active', source: { turn: 3, role: 'patient' }, ... }]
 */
export function extractFacts(turn: TurnInput, options: ExtractOptions = {}): FactMention[] {
  assertTurn(turn);
  const history =
    options.previous === undefined ? [] : Array.isArray(options.previous) ? options.previous : [options.previous];
  for (const [i, t] of history.entries()) assertTurn(t, `options.previous[${i}]`);
  const role = turn.role.toLowerCase();
  const patientSide = PATIENT_ROLES.has(role);
  if (!patientSide && !CLINICIAN_ROLES.has(role)) return [];
  const source = { turn: turn.number, role: turn.role };
  const text = detokenize(turn.text);
  // Lower-cased transcripts (ACI-Bench) cannot show names by their capitals.
  const cased = /[A-Z]/.test(text);
  const q = history.length > 0 ? openQuestion(history.slice(-6), turn.role, text) : undefined;
  const ctx: TurnContext = {
    source,
    allergyAnswer: q?.allergy ?? false,
    familyAnswer: q?.family ?? false,
    medicationAnswer: q?.medication ?? false,
    lastAllergies: q === undefined ? [] : askedAllergens(q),
    patient: role === 'patient' || role === 'user',
  };
  if (q?.focusMed !== undefined) ctx.focusMed = q.focusMed;
  const previousRelation = history.length > 0 ? lastRelationOf(history[history.length - 1] as TurnInput) : undefined;
  if (previousRelation !== undefined) ctx.lastRelation = previousRelation;
  const out: FactMention[] = [];
  let polarity: 'yes' | 'no' | undefined;
  let first = true;
  for (const sentence of splitSentences(text)) {
    const a = analyze(sentence);
    if (first) polarity = a.polarity;
    first = false;
    const facts = clinicalFacts(a, ctx);
    out.push(...facts.mentions);
    if (sentence.question) continue;
    out.push(...peopleIn(a, source, ctx.familyAnswer, cased), ...valueFacts(a, source));
    if (patientSide) out.push(...preferenceFacts(a, source));
    const nlp = nlpFacts(a, source, turn.at === undefined ? { cased } : { at: turn.at, cased });
    out.push(...nlp);
    const procedures = facts.mentions.filter((f) => f.kind === 'procedure');
    const date = nlp.find((f) => f.kind === 'date');
    if (procedures.length === 1 && date?.kind === 'date') {
      const p = procedures[0];
      if (p?.kind === 'procedure' && p.status === undefined) p.date = date.iso ?? date.text;
    }
  }
  if (q !== undefined) out.unshift(...answerFacts(q, polarity, source, new Set(out.map((f) => f.id))));
  return out;
}
