/**
 * Question and answer across two turns: "Any known drug allergies?" —
 * "No." is NKDA; "Are you taking Benicar?" — "Yes." is a medication;
 * "What happens when you take Lortab?" — "Hives." is an allergy reaction.
 */
import { type Analysis, analyze } from './analyze.ts';
import { clinicalFacts, type TurnContext } from './clinical.ts';
import { isFamilyQuestion } from './family.ts';
import * as m from './mentions.ts';
import { detokenize, splitSentences } from './text.ts';
import type { FactMention, FactSource, TurnInput } from './types.ts';

/** What the recent turns asked, if anything, and the topic the answer is about. */
export interface OpenQuestion {
  readonly allergy: boolean;
  readonly medication: boolean;
  readonly family: boolean;
  readonly reaction: boolean;
  /** A question was asked (a bare "no" may then deny a whole topic). */
  readonly asked: boolean;
  /** "any other ...", "anything else": a "no" does not mean "none at all". */
  readonly exclusive: boolean;
  /** The question itself denies ("you're not allergic to anything?"): a "yes" confirms NKDA / no medications. */
  readonly deniesAllergy: boolean;
  readonly deniesMedication: boolean;
  readonly candidates: readonly FactMention[];
  /** The last medication the asking turn named (asked about or stated). */
  readonly focusMed?: string;
}

interface TurnReading extends OpenQuestion {
  /** The family member the turn last named. */
  readonly lastRelation?: string;
  readonly words: number;
  /** A short turn that only names a drug or allergen ("Naprosyn?"): the topic carries over it. */
  readonly clarifying: boolean;
  readonly topical: boolean;
}

const ALLERGY_TOPIC = /allerg|\breact(?:ed|ion|ions)?\b|intoleran/;
const TAKING_FOR_ALLERGY = /\b(?:take|taking|use|using|on)\b[^?]*\bfor\b[^?]*allerg/;
const MEDICATION_TOPIC =
  /medic(?:ation|ine)s?|\bmeds\b|\bpills\b|prescri|supplements?|over the counter|\b(?:take|taking|on) anything\b/;
const REACTION_TOPIC =
  /what happens|what happened|what (?:kind|type|sort) of (?:reaction|symptoms?)|how did you react|what did it do|what does it do|what reaction/;
const EXCLUSIVE = /\b(?:other|else|besides|except|apart from|aside from|more|another)\b/;
const DENIES_ALLERGY = /\bnot allergic to (?:anything|any)\b|\bno (?:known )?(?:drug |medication )?allergies\b/;
const DENIES_MEDICATION = /\bnot (?:on|taking) any (?:medications?|medicines?|meds)\b|\bno (?:medications?|meds)\b/;

const cache = new Map<string, TurnReading>();

/** Read one earlier turn: its questions, topics and candidates (cached: consecutive turns re-read the same ones). */
function readTurn(t: TurnInput): TurnReading {
  const cacheKey = `${t.number}\u0000${t.role}\u0000${t.text}`;
  const hit = cache.get(cacheKey);
  if (hit !== undefined) return hit;
  const sentences = splitSentences(detokenize(t.text));
  const ctx: TurnContext = {
    source: { turn: t.number, role: t.role },
    allergyAnswer: false,
    familyAnswer: false,
    medicationAnswer: false,
    lastAllergies: [],
    patient: t.role === 'patient' || t.role === 'user',
  };
  const candidates: FactMention[] = [];
  let [allergy, medication, family, reaction, exclusive, deniesAllergy, deniesMedication] = Array(7).fill(false);
  let focusMed: string | undefined;
  let onlyNames = true;
  let namedTopic = false;
  sentences.forEach((s, i) => {
    const a: Analysis = analyze(s);
    const facts = clinicalFacts(a, ctx);
    for (const f of [...facts.mentions, ...facts.candidates])
      if (f.kind === 'medication' && f.name !== 'none') focusMed = f.name;
    onlyNames &&= a.terms.every((h) => h.senses.medication ?? h.senses.drugClass ?? h.senses.allergen);
    const last = i === sentences.length - 1;
    // "You mentioned cancer runs in your family. What type?": the family topic may be set before the question.
    family ||= isFamilyQuestion(a);
    if (!s.question && !(last && ALLERGY_TOPIC.test(s.lower))) return;
    candidates.push(...facts.candidates);
    allergy ||= ALLERGY_TOPIC.test(s.lower) && !TAKING_FOR_ALLERGY.test(s.lower);
    namedTopic ||= MEDICATION_TOPIC.test(s.lower);
    medication ||= facts.candidates.some((c) => c.kind === 'medication');
    reaction ||= REACTION_TOPIC.test(s.lower);
    exclusive ||= s.question && EXCLUSIVE.test(s.lower);
    deniesAllergy ||= s.question && DENIES_ALLERGY.test(s.lower);
    deniesMedication ||= s.question && DENIES_MEDICATION.test(s.lower);
  });
  const words = t.text.split(/\s+/).filter((w) => /[a-z0-9]/i.test(w)).length;
  const reading: TurnReading = {
    allergy,
    medication: (medication || namedTopic) && !allergy,
    family,
    reaction,
    asked: sentences.some((s) => s.question),
    exclusive,
    deniesAllergy,
    deniesMedication,
    candidates,
    ...(focusMed === undefined ? {} : { focusMed }),
    ...(ctx.lastRelation === undefined ? {} : { lastRelation: ctx.lastRelation }),
    words,
    clarifying: words <= 7 && onlyNames,
    topical: allergy || namedTopic || family,
  };
  if (cache.size > 256) cache.clear();
  cache.set(cacheKey, reading);
  return reading;
}

/** The family member the turn last named ("my sister"), for a following "she". */
export function lastRelationOf(turn: TurnInput): string | undefined {
  return readTurn(turn).lastRelation;
}

/** A turn that carries on the one before it: "Yeah, and Dilatrate and cyclobenzaprine." */
const CONTINUES = /^\W*(?:(?:yeah|yes|yep|yup|oh|um|uh|right|okay|ok)\b[\s,.]+)*(?:and|also|plus|as well as)\b/i;

/**
 * Read the recent turns (oldest first) for the answer given by `role`: the
 * nearest other speaker's turn that asks something (skipping "Me?"/"Yes."
 * acknowledgements), with its topic carried over clarifications such as
 * "Naprosyn?". A turn that opens by carrying on ("and ...") also carries on
 * an allergy list stated just before it by a speaker of the same role (two
 * clinicians going over a chart). Undefined when nothing was asked.
 */
export function openQuestion(history: readonly TurnInput[], role: string, text = ''): OpenQuestion | undefined {
  let base: TurnReading | undefined;
  let i = history.length - 1;
  const continues = CONTINUES.test(text);
  for (; i >= 0 && i >= history.length - 3; i--) {
    const t = history[i] as TurnInput;
    const r = readTurn(t);
    const carriedOn = continues && i === history.length - 1 && r.allergy;
    if ((t.role !== role && (r.asked || r.allergy)) || carriedOn) {
      base = r;
      break;
    }
    if (r.words > 3) return undefined;
  }
  if (base === undefined) return undefined;
  if (base.topical || !base.clarifying) return base;
  for (let k = i - 1; k >= 0 && k >= i - 5; k--) {
    const t = history[k] as TurnInput;
    if (t.role === role) continue;
    const r = readTurn(t);
    if (r.topical) return { ...base, allergy: r.allergy, medication: r.medication, family: r.family };
    if (!r.clarifying) break;
  }
  return base;
}

/** Allergens the question is about (for "it gives me hives" in the answer). */
export function askedAllergens(q: OpenQuestion): string[] {
  if (!q.allergy && !q.reaction) return [];
  const out: string[] = [];
  for (const c of q.candidates) {
    if (c.kind === 'allergy' && c.substance !== 'drug') out.push(c.substance);
    if (q.reaction && c.kind === 'medication') out.push(c.name);
  }
  if (out.length === 0 && q.reaction && q.focusMed !== undefined) out.push(q.focusMed);
  return out;
}

/** Re-source a candidate to the answering turn, flipping it for a "no". */
function resolve(c: FactMention, source: FactSource, yes: boolean): FactMention | undefined {
  switch (c.kind) {
    case 'medication':
      return { ...c, source, explicit: true, status: yes ? c.status : c.status === 'stopped' ? 'active' : 'negated' };
    case 'condition':
      return { ...c, source, explicit: true, status: yes ? c.status : 'negated' };
    case 'allergy': {
      if (yes) return { ...c, source, status: 'active' };
      const { reaction: _dropped, ...rest } = c;
      return { ...rest, source, status: 'negated' };
    }
    case 'procedure': {
      if (yes) {
        const { status: _dropped, ...rest } = c;
        return { ...rest, source, explicit: false };
      }
      return { ...c, source, status: 'negated', explicit: true };
    }
    case 'person':
      if (c.conditions.length === 0) return yes ? { ...c, source } : undefined;
      return {
        ...c,
        source,
        conditions: yes ? c.conditions : c.conditions.map((x) => (x.startsWith('no ') ? x : `no ${x}`)),
      };
    default:
      return undefined;
  }
}

/**
 * Facts an answer gives through the question it answers: the question's
 * candidates, affirmed or denied, plus NKDA / "no medications" for a bare
 * "no" to a general allergy or medication question. Candidates the answer
 * names itself are left to the answer.
 */
export function answerFacts(
  q: OpenQuestion,
  polarity: 'yes' | 'no' | undefined,
  source: FactSource,
  stated: ReadonlySet<string>,
): FactMention[] {
  if (polarity === undefined) return [];
  const yes = polarity === 'yes';
  const out: FactMention[] = [];
  for (const c of q.candidates) {
    if (stated.has(c.id)) continue;
    if (q.allergy && c.kind === 'medication') {
      out.push(m.allergy(c.name, source, yes ? 'active' : 'negated', true));
      continue;
    }
    const r = resolve(c, source, yes);
    if (r !== undefined) out.push(r);
  }
  // Only candidates of the asked topic stop a "no" from denying the whole topic.
  const topical = q.candidates.filter((c) => (q.allergy ? c.kind === 'allergy' : c.kind === 'medication'));
  if (yes && q.deniesAllergy) out.push(m.allergy('drug', source, 'negated', true));
  if (yes && q.deniesMedication) out.push(m.medication('none', source, 'negated', true));
  if (!yes && q.asked && !q.exclusive && topical.length === 0) {
    // The answer may say what it denies itself ("No, I am not allergic to anything" to "Like any medications?").
    if (q.allergy && !stated.has('med:none')) out.push(m.allergy('drug', source, 'negated', true));
    else if (q.medication && !q.family && !stated.has('allergy:drug'))
      out.push(m.medication('none', source, 'negated', true));
  }
  return out;
}
