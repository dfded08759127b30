/**
 * Clinical facts of one sentence: medications (with dose, frequency, route
 * and change of status), allergies (with reactions), conditions (the
 * patient's, or a family member's) and procedures. Questions yield
 * candidates, not facts, except what they presuppose ("how is your asthma?").
 */
import { type Analysis, type CueHit, cuesIn, type TermHit } from './analyze.ts';
import { attachSpans, attributeSpans, mergeSpans } from './attributes.ts';
import { deceasedRelations, familyOwners } from './family.ts';
import * as m from './mentions.ts';
import { placer } from './questions.ts';
import { statusAt } from './status.ts';
import type { FactMention, FactSource, FactStatus } from './types.ts';

/** Per-turn state the sentence extractors share. */
export interface TurnContext {
  readonly source: FactSource;
  /** The turn answers an allergy question: bare names are allergens. */
  readonly allergyAnswer: boolean;
  /** The turn answers a family-history question: bare conditions are the family's. */
  readonly familyAnswer: boolean;
  /** The turn answers a medication question: a bare frequency belongs to the asked medication. */
  readonly medicationAnswer: boolean;
  /** The medication last named (in this turn, or the one the question asked about). */
  focusMed?: string;
  /** Allergens named earlier in this turn (or asked about), for "it gives me hives". */
  lastAllergies: string[];
  /** The family member last named (in this turn or the one before), for "she is a diabetic". */
  lastRelation?: string;
  /** The speaker is the patient (whose "he"/"she" is someone else). */
  readonly patient: boolean;
}

/** Facts stated by a sentence, and the candidates a question asks about. */
export interface SentenceFacts {
  readonly mentions: FactMention[];
  readonly candidates: FactMention[];
}

const USE_WORDS = new Set(
  'take takes taking took use uses using on started prescribed stopped apply applying'.split(' '),
);
const PLAN =
  /\b(?:will|going to|gonna|schedule|scheduled|order|ordering|recommend|refer|referral|let's|lets|want you to|wants? (?:an?|you|to)|plan to|planning|would like to|consider|need to get|should get)\b/;
const FOLLOW_UP_REACTION =
  /\b(?:it|that|they|them|this|which|gives?|gave|causes?|caused|makes?|made|get|got|breaks?|broke|reaction)\b/;
const TAKE_WORD = /\b(?:take|takes|taking|took|use|using|puffs?|pills?|tablets?|dose|inject|injecting)\b/;
/** "I stopped it", "we discontinued that": a stop verb with a pronoun object, about the medication just named. */
const STOP_PRONOUN =
  /\b(?:stopped|stop|quit|discontinued|discontinue|came off|went off|got off|taken off|took me off)\s+(?:taking\s+|using\s+)?(?:it|that|them|those|this|these)\b/;
/** A drug word that names a lab test, not a medication ("vitamin d level"). */
const LAB_AFTER = new Set('level test testing panel study count deficiency saturation screen'.split(' '));
const EXCLUSIVE =
  /\b(?:other|else|besides|except|apart from|aside from|new|over the counter|otc|alternative|herbal|recent)\b/;
const NKDA =
  /\bnkda\b|\bnka\b|\bno known (?:drug |medication |medicine |medical )?allerg|\b(?:no|not any|don'?t have any|do not have any|haven'?t (?:got )?any|without any|denies(?: any)?)\s+(?:known\s+)?(?:drug |medication |medicine |food )?allerg|\bnot allergic to (?:anything|any (?:medications?|medicines?|drugs?))|\ballergies?\s*(?::|-|are|is)?\s*none\b/;
const NO_MEDS =
  /\b(?:no|not|don'?t|do not|doesn'?t|haven'?t|never|none)\b(?:\s+\w+){0,5}?\s+(?:medications?|medicines?|meds|prescriptions?)\b|(?:\b(?:not|never)|n'?t)\s+(?:[\w']+\s+){0,4}?(?:take|taking|taken|on)\s+anything\b/;
const CANNOT = new Set(['cant', 'cannot', 'can']);
const ALLERGY_NOUNS = new Set(
  'allergy allergie allergic intolerance intolerant sensitivity reaction nkda nka'.split(' '),
);
const NO_MEDS_EXCLUDED =
  /\b(?:allerg\w*|sure|know|remember|forg[eo]t|problems?|issues?|side effects?|changes?|refills?)\b/;

/** A class named to describe a drug just named ("Wellbutrin is an inhaler", "it's a pain killer"). */
function describes(a: Analysis, hit: TermHit): boolean {
  const before = a.tokens.slice(Math.max(0, hit.start - 4), hit.start).map((t) => t.norm);
  return (
    (before.includes('a') || before.includes('an')) && before.some((w) => w === 'is' || w === 'its' || w === 'thats')
  );
}

const CAUSES = new Set('gives gave give giving makes made make causes caused cause breaks broke break'.split(' '));

/** "penicillin gives me hives", "sulfa makes me break out in a rash": the drug causes a named reaction. */
function causesReaction(a: Analysis, hit: TermHit): boolean {
  const clause = a.clause[hit.start];
  let cause = false;
  for (let i = hit.end; i < Math.min(a.tokens.length, hit.end + 8) && a.clause[i] === clause; i++) {
    if (CAUSES.has(a.tokens[i]?.norm ?? '')) cause = true;
    else if (cause && a.terms.some((t) => t.start === i && t.senses.reaction !== undefined)) return true;
  }
  return false;
}

/** Whether a drug/allergen hit is an allergen here: the nearest deciding cue before it is an allergy cue. */
function isAllergenHere(a: Analysis, hit: TermHit, ctx: TurnContext): boolean {
  if (causesReaction(a, hit)) return true;
  const cues = cuesIn(a, a.clause[hit.start] ?? 0);
  // "can't take X" is an intolerance only where allergies are the topic or a reaction is named.
  const cannotTake = ctx.allergyAnswer || a.terms.some((t) => t.senses.reaction !== undefined && !t.senses.medication);
  const isAllergyCue = (c: CueHit): boolean =>
    c.types.includes('allergy') && (cannotTake || !CANNOT.has(a.tokens[c.start]?.norm ?? ''));
  for (let i = cues.length - 1; i >= 0; i--) {
    const c = cues[i];
    if (c === undefined || c.end > hit.start) continue;
    if (isAllergyCue(c)) return true;
    if (USE_WORDS.has(a.tokens[c.start]?.norm ?? '')) return false;
  }
  // "penicillin allergy": a noun cue after the drug.
  return cues.some((c) => isAllergyCue(c) && ALLERGY_NOUNS.has(a.tokens[c.start]?.norm ?? '')) || ctx.allergyAnswer;
}

/** Status of each medication in a clause that switches ("switched from X to Y", "Y instead of X"). */
function switchStatuses(a: Analysis, meds: readonly TermHit[]): Map<TermHit, FactStatus> {
  const out = new Map<TermHit, FactStatus>();
  for (const clause of new Set(meds.map((h) => a.clause[h.start] ?? 0))) {
    const cues = cuesIn(a, clause).filter((c) => c.types.includes('switch'));
    const cue = cues[0];
    if (cue === undefined) continue;
    const inClause = meds.filter((h) => a.clause[h.start] === clause);
    const instead = a.tokens[cue.start]?.text === 'instead';
    const pivot = a.tokens.findIndex(
      (t, i) => i >= cue.end && a.clause[i] === clause && (t.text === 'to' || t.text === 'with' || t.text === 'for'),
    );
    for (const h of inClause) {
      if (instead) out.set(h, h.start > cue.start ? 'stopped' : 'active');
      else if (h.start < cue.start) continue;
      else if (pivot >= 0) out.set(h, h.start < pivot ? 'stopped' : 'active');
      else out.set(h, a.tokens[h.start - 1]?.text === 'from' ? 'stopped' : 'active');
    }
  }
  return out;
}

/** Extract the clinical facts (or question candidates) of one analysed sentence. */
export function clinicalFacts(a: Analysis, ctx: TurnContext): SentenceFacts {
  const mentions: FactMention[] = [];
  const candidates: FactMention[] = [];
  const q = a.sentence.question;
  const place = placer(a);
  const put = (hit: TermHit, mention: FactMention): void => {
    const where = place(hit);
    if (where === 'fact') mentions.push(mention);
    else if (where === 'candidate') candidates.push(mention);
  };
  const src = ctx.source;
  const meds: TermHit[] = [];
  const allergens: { hit: TermHit; substance: string }[] = [];
  const reactions: string[] = [];
  const procedures: TermHit[] = [];
  const conditions: TermHit[] = [];
  const anyAllergenHere = a.terms.some((h) => {
    const sub = h.senses.medication ?? h.senses.drugClass ?? h.senses.allergen;
    return sub !== undefined && isAllergenHere(a, h, ctx);
  });
  const followUp =
    !anyAllergenHere &&
    ctx.lastAllergies.length > 0 &&
    (FOLLOW_UP_REACTION.test(a.sentence.lower) || a.tokens.filter((t) => !t.punct).length <= 4);

  for (const hit of a.terms) {
    const s = hit.senses;
    if (LAB_AFTER.has(a.tokens[hit.end]?.norm ?? '') || LAB_AFTER.has(a.tokens[hit.end + 1]?.norm ?? '')) continue;
    const substance = s.medication ?? s.drugClass ?? s.allergen;
    if (s.drugClass !== undefined && s.medication === undefined && describes(a, hit)) continue;
    if (substance !== undefined && isAllergenHere(a, hit, ctx)) allergens.push({ hit, substance });
    else if (s.reaction !== undefined && (anyAllergenHere || followUp || (ctx.allergyAnswer && !s.condition)))
      reactions.push(s.reaction);
    else if (s.medication !== undefined || (s.drugClass !== undefined && !describes(a, hit))) meds.push(hit);
    else if (s.condition !== undefined) conditions.push(hit);
    else if (s.procedure !== undefined) procedures.push(hit);
  }

  // Allergies, with the reactions said alongside (or right after).
  const reaction = reactions.length > 0 ? [...new Set(reactions)].join(', ') : undefined;
  for (const { hit, substance } of allergens) {
    const negated = statusAt(a, hit).status === 'negated';
    put(hit, m.allergy(substance, src, negated ? 'negated' : 'active', true, negated ? undefined : reaction));
  }
  if (allergens.length > 0 && !q) ctx.lastAllergies = allergens.map((x) => x.substance);
  else if (allergens.length === 0 && reaction !== undefined && followUp && !q) {
    for (const substance of ctx.lastAllergies) mentions.push(m.allergy(substance, src, 'active', false, reaction));
  }
  if (!q && NKDA.test(a.sentence.lower) && !EXCLUSIVE.test(a.sentence.lower))
    mentions.push(m.allergy('drug', src, 'negated', true));

  // Medications, with switches, doses, frequencies and routes.
  const switched = switchStatuses(a, meds);
  const spans = attributeSpans(a);
  const attached = attachSpans(a, meds, spans);
  for (const hit of meds) {
    const name = (hit.senses.medication ?? hit.senses.drugClass) as string;
    const sw = switched.get(hit);
    const reading = sw === undefined ? statusAt(a, hit) : { status: sw, explicit: true };
    put(hit, m.medication(name, src, reading.status, reading.explicit, attached.get(hit)));
    if (!q) ctx.focusMed = name;
  }
  if (meds.length === 0 && !q && ctx.focusMed !== undefined) {
    const stopsIt = STOP_PRONOUN.test(a.sentence.lower);
    const relevant = spans.some((s) => s.kind === 'dose') || TAKE_WORD.test(a.sentence.lower) || ctx.medicationAnswer;
    const useful = relevant ? spans : [];
    if (stopsIt) mentions.push(m.medication(ctx.focusMed, src, 'stopped', true));
    else if (useful.length > 0 && a.terms.length === 0)
      mentions.push(m.medication(ctx.focusMed, src, 'active', false, mergeSpans(useful)));
  }
  if (!q && meds.length === 0 && NO_MEDS.test(a.sentence.lower) && !EXCLUSIVE.test(a.sentence.lower)) {
    if (!NO_MEDS_EXCLUDED.test(a.sentence.lower)) mentions.push(m.medication('none', src, 'negated', true));
  }

  // Conditions: the patient's, or a family member's.
  const dead = deceasedRelations(a);
  for (const hit of conditions) {
    const name = hit.senses.condition as string;
    const reading = statusAt(a, hit);
    const owners = familyOwners(a, hit, ctx.familyAnswer, ctx);
    if (owners === undefined) put(hit, m.condition(name, src, reading.status, reading.explicit));
    else {
      const label = reading.status === 'negated' ? `no ${name}` : name;
      for (const rel of owners) put(hit, m.person(rel, src, { conditions: [label], deceased: dead.has(rel) }));
    }
  }

  // Procedures the patient had (plans are not history); "never had surgery" is negated.
  const specific = procedures.some((h) => h.senses.procedure !== 'surgery');
  for (const hit of procedures) {
    const name = hit.senses.procedure as string;
    if (name === 'surgery' && specific) continue;
    if (!q && PLAN.test(a.sentence.lower)) continue;
    const owners = familyOwners(a, hit, ctx.familyAnswer, ctx);
    const negated = statusAt(a, hit).status === 'negated';
    if (owners === undefined) put(hit, m.procedure(name, src, negated));
    else for (const rel of owners) put(hit, m.person(rel, src, { conditions: [negated ? `no ${name}` : name] }));
  }
  const relation = a.terms.findLast((t) => t.senses.family !== undefined)?.senses.family;
  if (relation !== undefined) ctx.lastRelation = relation;
  return { mentions, candidates };
}
