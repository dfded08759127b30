/**
 * Whether a term in a sentence is stated, asked about, or hedged. A
 * question states nothing, except what it takes for granted ("how is your
 * asthma?", "any allergies besides penicillin?"); a hedge ("could be",
 * "to rule out") neither states nor asks.
 */
import { type Analysis, cuesIn, type TermHit } from './analyze.ts';
import { WH_WORDS } from './lexicon/patterns.ts';

/** What a term hit is in its sentence. */
export type Placement = 'fact' | 'candidate' | 'none';

/** Words that make a question ask about the patient having or taking something (not "better than Claritin?"). */
const ASKING =
  /\b(?:take|takes|taking|took|on|using|use|used|apply|applying|have|has|had|any|anything|ever|still|been|get|gets|allergic|allergy|allergies|experienc\w*|notice\w*|suffer\w*|diagnosed|history|mean|talking about|referring to|how about|what about|smoke|smokes|smoking|drink|drinks|drinking)\b/;
/** "Are you diabetic?", "Is he a smoker?": a copular question about the term right after its subject asks. */
const COPULAR_SUBJECT =
  /^(?:(?:and|so|okay|ok|um|uh|now|also|alright|well|but)\s+)*(?:are|were|is|was)\s+(?:you|he|she|they|the patient)\s+(?:a\s+|an\s+)?$/;
/** In a wh-question these mark a known thing ("how is the synthroid working?"). */
const PRESUPPOSING = new Set(['the', 'that']);
/** In any question these do ("is your asthma under control?"). */
const POSSESSIVE = new Set(['your', 'his', 'her', 'my']);
const BARE_QUESTION_WORDS = new Set('and or any the your a so okay ok also what about how no um uh'.split(' '));
/** Unpunctuated transcripts run questions into statements: an inverted "are you ..." near the term asks. */
const CLAUSE_QUESTION =
  /(?<!\b(?:i|we|they|you|he|she|it|who|that|which|gonna|wanna|going|to|will|would|can|could|should|must|let|lets|not|might|may|please|ll)\s)\b(?:do|does|did|are|were|have|has|can|could)\s+(?:you|he|she|they)\b(?!\s+(?:know|think|remember|said|say|mean)\b)|^(?:(?:and|so|okay|ok|um|uh|now|also|alright|well|but)\s+)*(?:any|anything|how about|what about)\b/;

/** A question made only of clinical terms ("And high cholesterol?", "Naprosyn?") asks about them. */
function onlyTerms(a: Analysis): boolean {
  const inTerm = new Set<number>();
  for (const t of a.terms) for (let i = t.start; i < t.end; i++) inTerm.add(i);
  return inTerm.size > 0 && a.tokens.every((t, i) => t.punct || inTerm.has(i) || BARE_QUESTION_WORDS.has(t.norm));
}

function presupposed(a: Analysis, hit: TermHit, wh: boolean): boolean {
  if (a.cues.some((c) => c.types.includes('besides') && c.end <= hit.start)) return true;
  for (let i = Math.max(0, hit.start - 2); i < hit.start; i++) {
    const w = a.tokens[i]?.norm ?? '';
    if (POSSESSIVE.has(w) || (wh && PRESUPPOSING.has(w))) return true;
  }
  return false;
}

function clauseAsks(a: Analysis, hit: TermHit): boolean {
  const clause = a.clause[hit.start] ?? 0;
  // Within the clause, and near: a run-on turn may ask early and state later.
  const first = Math.max(a.clause.indexOf(clause), a.lead, hit.start - 8);
  const start = a.tokens[first]?.start ?? 0;
  return CLAUSE_QUESTION.test(a.sentence.lower.slice(start, a.tokens[hit.start]?.start ?? start));
}

function copular(a: Analysis, hit: TermHit): boolean {
  const start = a.tokens[a.lead]?.start ?? 0;
  return COPULAR_SUBJECT.test(a.sentence.lower.slice(start, a.tokens[hit.start]?.start ?? start));
}

function hedged(a: Analysis, hit: TermHit): boolean {
  return cuesIn(a, a.clause[hit.start] ?? 0).some((c) => c.end <= hit.start && c.types.includes('hedge'));
}

/**
 * A placer for the hits of one sentence: `fact` when stated (or
 * presupposed by a question), `candidate` when asked about, `none` when
 * hedged or named in a question that asks about something else.
 */
export function placer(a: Analysis): (hit: TermHit) => Placement {
  const q = a.sentence.question;
  const wh = q && a.tokens.some((t) => WH_WORDS.has(t.norm));
  const asking = q && (ASKING.test(a.sentence.lower) || onlyTerms(a));
  return (hit) => {
    if (hedged(a, hit)) return 'none';
    const asked = q || clauseAsks(a, hit);
    if (!asked || presupposed(a, hit, wh)) return 'fact';
    return asking || !q || copular(a, hit) ? 'candidate' : 'none';
  };
}
