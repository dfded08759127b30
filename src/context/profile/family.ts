/**
 * People: family members (and which conditions are theirs rather than the
 * patient's) and clinicians ("dr. kumar", "my cardiologist").
 */
import { type Analysis, clauseHas, type TermHit } from './analyze.ts';
import * as m from './mentions.ts';
import { isNegated } from './status.ts';
import type { FactMention, FactSource } from './types.ts';

const POSSESSIVE = new Set(['my', 'his', 'her', 'our', 'your', 'their']);
const FIRST_PERSON = new Set(['i', 'im', 'ive', 'id', 'me', 'myself']);
const THIRD_PERSON = new Set(['he', 'hes', 'she', 'shes', 'they', 'theyre', 'them']);
const INDEFINITE = new Set(
  'someone somebody anyone anybody relative others people person everyone everybody nobody we weve'.split(' '),
);
const CHAIN = new Set(['and', 'or', ',', 'my', 'his', 'her', 'both', 'the', 'their', 'also', '&', 'our', 'your']);
const NOT_A_NAME = new Set(
  (
    'the a an and or to for of in on at is was said says told tells will would can could should who that which about ' +
    'visit visits appointment office again today yesterday before after he she they it i you we me my your his her has ' +
    'had have did does do thinks think wants want recommended prescribed gave put sent referred ordered asked ' +
    'mentioned first last next because so but if then when also just already never not no yes here there now note ' +
    'notes orders called checked saw sees see looked found ran did while with from as by thought felt office know ' +
    'knows okay ok um uh please thank thanks sorry it this what how why im ill may might must about any some every '
  ).split(' '),
);

/** Whether a family relation hit is about the patient's family (not "I am a mother"). */
function isFamilyReference(a: Analysis, hit: TermHit, familyTopic: boolean): boolean {
  for (let i = Math.max(0, hit.start - 3); i < hit.start; i++) if (POSSESSIVE.has(a.tokens[i]?.norm ?? '')) return true;
  return familyTopic;
}

/**
 * The relations a condition hit belongs to, or undefined when it is the
 * patient's own. A relation before the condition (with no "I" between)
 * owns it, together with relations chained to it ("my brother and sister");
 * a family-history cue without a relation gives it to "family".
 */
export function familyOwners(
  a: Analysis,
  hit: TermHit,
  familyAnswer: boolean,
  speaker: { patient: boolean; lastRelation?: string },
): string[] | undefined {
  const familyCue = a.cues.some((c) => c.types.includes('family'));
  // "when I was a kid" names no relative: only "my kid", or any relation when family is the topic.
  const all = a.terms.filter(
    (t) => t.senses.family !== undefined && isFamilyReference(a, t, familyAnswer || familyCue),
  );
  // "my granny on my father's side": the side names no owner when another relation does.
  const notSides = all.filter((t) => a.tokens[t.end]?.norm !== 'side');
  const relations = notSides.length > 0 ? notSides : all;
  let nearest = -1;
  for (let k = relations.length - 1; k >= 0; k--) {
    if ((relations[k]?.end ?? 0) <= hit.start) {
      nearest = k;
      break;
    }
  }
  const firstPersonBetween = (from: number): boolean => {
    for (let i = from; i < hit.start; i++) if (FIRST_PERSON.has(a.tokens[i]?.norm ?? '')) return true;
    return false;
  };
  if (nearest >= 0) {
    const r = relations[nearest] as TermHit;
    if (!firstPersonBetween(r.end)) {
      const owners = [r.senses.family as string];
      for (let k = nearest - 1; k >= 0; k--) {
        const prev = relations[k] as TermHit;
        const next = relations[k + 1] as TermHit;
        const between = a.tokens.slice(prev.end, next.start);
        if (!between.every((t) => CHAIN.has(t.norm))) break;
        owners.unshift(prev.senses.family as string);
      }
      return [...new Set(owners)];
    }
  }
  const clause = a.clause[hit.start] ?? 0;
  // "someone had cervical cancer" when family is the topic; from the patient, "she is a diabetic"
  // after "I have another sister" (a clinician's or a guest's "she" is usually the patient).
  const lastRelation = speaker.lastRelation;
  if (familyAnswer || familyCue || lastRelation !== undefined || relations.length > 0) {
    for (let i = hit.start - 1; i >= a.lead; i--) {
      const w = a.tokens[i]?.norm ?? '';
      if (FIRST_PERSON.has(w)) break;
      if (INDEFINITE.has(w)) return ['family'];
      if (speaker.patient && THIRD_PERSON.has(w)) return [lastRelation ?? 'family'];
    }
  }
  if (familyCue) {
    const after = relations.find((t) => t.start >= hit.end);
    if (after !== undefined) return [after.senses.family as string];
    if (!firstPersonBetween(a.lead)) return ['family'];
  }
  if (familyAnswer && !clauseHas(a, clause, 'active') && !firstPersonBetween(a.lead)) return ['family'];
  return undefined;
}

/** Relations the sentence says died ("my father died of ..."): the nearest relation before each death cue. */
export function deceasedRelations(a: Analysis): Set<string> {
  const out = new Set<string>();
  for (const c of a.cues) {
    if (!c.types.includes('died')) continue;
    let best: TermHit | undefined;
    for (const t of a.terms) if (t.senses.family !== undefined && t.end <= c.start) best = t;
    if (best !== undefined) out.add(best.senses.family as string);
  }
  return out;
}

/**
 * Person mentions of a sentence: family relations referred to as the
 * patient's, clinician roles with a possessive ("my cardiologist"), and
 * named doctors ("dr. kumar", "Doctor Kumar").
 */
export function peopleIn(a: Analysis, source: FactSource, familyTopic: boolean, cased: boolean): FactMention[] {
  const out: FactMention[] = [];
  const dead = deceasedRelations(a);
  const named = namedClinicians(a, cased);
  for (const hit of a.terms) {
    const rel = hit.senses.family;
    if (rel !== undefined && !hit.senses.medication && isFamilyReference(a, hit, familyTopic) && !isNegated(a, hit)) {
      out.push(m.person(rel, source, { deceased: dead.has(rel) }));
    }
    const role = hit.senses.clinician;
    if (role !== undefined && rel === undefined) {
      const prev = a.tokens[hit.start - 1]?.norm ?? '';
      const prev2 = a.tokens[hit.start - 2]?.norm ?? '';
      const doctorName = named.find((n) => Math.abs(n.token - hit.start) <= 4 && n.token !== hit.start);
      if (doctorName !== undefined && role !== 'physician') doctorName.role = role;
      else if (POSSESSIVE.has(prev) || POSSESSIVE.has(prev2)) out.push(m.person(role, source));
    }
  }
  for (const n of named) {
    out.push(m.person(n.role, source, { name: n.display, key: `${n.title} ${n.name}` }));
  }
  return out;
}

interface NamedClinician {
  name: string;
  display: string;
  title: string;
  role: string;
  token: number;
}

const TITLED = /\b(dr\.?|doctor|nurse)\s+([a-z][a-z'-]+)/gi;

function namedClinicians(a: Analysis, cased: boolean): NamedClinician[] {
  const out: NamedClinician[] = [];
  if (!/\b(?:dr|doctor|nurse)\b/.test(a.sentence.lower)) return out;
  for (const mm of a.sentence.cased.matchAll(TITLED)) {
    const raw = mm[2] ?? '';
    const word = raw.toLowerCase();
    if (NOT_A_NAME.has(word) || (cased && !/^[A-Z]/.test(raw))) continue;
    const title = (mm[1] ?? '').toLowerCase().startsWith('nurse') ? 'nurse' : 'dr';
    const display = `${title === 'dr' ? 'Dr.' : 'Nurse'} ${word.charAt(0).toUpperCase()}${word.slice(1)}`;
    const token = a.tokens.findIndex((t) => t.text === word);
    out.push({ name: word, display, title, role: title === 'dr' ? 'physician' : 'nurse', token });
  }
  return out;
}

/** Whether a relation hit is in a sentence that asks about family history (for questions). */
export function isFamilyQuestion(a: Analysis): boolean {
  return (
    a.cues.some((c) => c.types.includes('family')) ||
    a.terms.some((t) => t.senses.family !== undefined && isFamilyReference(a, t, false))
  );
}
