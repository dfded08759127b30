/**
 * The default clinical salience scorer of the extractive summarizer, and the
 * pleasantry/short-answer tests it uses. Lexicons are deliberately small and
 * pattern-based: they rank sentences, they do not extract facts (the profile
 * extractor does that).
 */
// The extractor's own lexicon and tokeniser, so "what the profile carries" is judged by the same terms it extracted.
import { type SenseKind, termTrie } from './profile/lexicon/index.ts';
import { digitize, tokenize } from './profile/text.ts';
import type { Profile } from './profile/types.ts';
import { words } from './text.ts';

const MED_SUFFIX =
  /(?:pril|olol|sartan|statin|formin|dipine|pine|azole|prazole|cillin|mycin|cycline|floxacin|done|zepam|azolam|pam|lam|ine|profen|oxetine|triptan|tidine|gliptin|gliflozin|glutide|parin|xaban|gatran|vir|mab|nib|sone|olone|semide|thiazide|zide|terol|tropium|pentin|barbital|caine|codone|morphone|fenac|coxib|lukast|tadine|dronate)$/;
const MED_SUFFIX_EXCLUDED = new Set(
  (
    'fine line mine nine wine shine spine define decline combine examine determine imagine online baseline guideline ' +
    'outline deadline timeline engine genuine feminine masculine canine alpine divine magazine routine machine ' +
    'medicine discipline done undone overdone abandoned someone everyone anyone alone phone stone bone tone zone ' +
    'clone drone shoulder supine pine dine lane plane vine whine swine cuisine marine trampoline trine'
  ).split(' '),
);
const MED_WORDS = new Set(
  (
    'insulin aspirin tylenol acetaminophen ibuprofen advil motrin aleve naproxen warfarin coumadin eliquis xarelto ' +
    'lasix synthroid albuterol inhaler prednisone gabapentin tramadol lipitor crestor zoloft prozac lexapro ' +
    'wellbutrin nexium protonix plavix benadryl claritin zyrtec flonase antibiotic antibiotics steroid steroids ' +
    'vitamin supplement supplements medication medications medicine medicines meds pill pills tablet tablets dose ' +
    'doses dosage prescription prescribed refill refills injection injections shot vaccine vaccines cream ointment ' +
    'patch drops mg milligram milligrams mcg microgram micrograms ozempic humira keytruda norco percocet xanax ' +
    'ativan valium adderall ritalin suboxone narcan epipen chemo chemotherapy'
  ).split(' '),
);
const ALLERGY = /\b(?:allerg\w*|hives|anaphyla\w*|epipen|intoleran\w*)\b/;
const CONDITION = new RegExp(
  '\\b(?:' +
    [
      'pain|aches?|diabet\\w*|hypertension|pressure|asthma|copd|cancer|tumou?r|infection|fracture|depress\\w*|anxiety',
      'failure|kidney|liver|heart|lung|stroke|seizure|migraine|headache|fever|chills|cough|nausea|vomit\\w*|diarrh\\w*',
      'constipation|swelling|swollen|rash|bleeding|dizz\\w*|fatigue|tired|numb\\w*|tingling|shortness|breath|breathing',
      'wheez\\w*|sugar|cholesterol|thyroid|obes\\w*|weight|injury|injured|sprain\\w*|strain|disease|disorder|syndrome',
      'symptom|diagnos\\w*|history|chronic|acute|fibrillation|afib|arrhythmia|palpitation|ulcer|nodule|lump|mass|cyst',
      'lesion|bite|wound|burn|disc|bulging|mood|smok\\w*|alcohol|drinking|cessation|urinat\\w*|swallow\\w*|sleep\\w*',
      'reflux|gerd|hernia|sciatica|rotator cuff|tendon|ligament|bruis\\w*|itch\\w*|stiff\\w*|cramp\\w*|spasm|sweats',
      'immunoglobulin|cabg|bypass|pregnan\\w*|\\w+itis|\\w+emia|\\w+osis|\\w+oma|\\w+pathy|\\w+algia|\\w{4,}ia|\\w{4,}ism',
    ].join('|') +
    ')s?\\b',
);
const PROCEDURE =
  /\b(?:surgery|surgeries|operation|\w+ectomy|\w+otomy|\w+ostomy|\w+plasty|\w+scopy|x-?ray|mri|ct|scan|ultrasound|echo\w*|ekg|ecg|biopsy|labs?|bloodwork|a1c|test|tests|results?|referral|physical therapy|stent|transplant|dialysis|imaging|mammogram)\b/;
const NEGATION =
  /\b(?:no|not|denies|denied|deny|never|none|without|stopped|quit|discontinued|negative|don't|doesn't|didn't|haven't|hasn't|no longer|ran out)\b/;
const DOSE =
  /\b(?:\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty|forty|fifty|sixty|hundred|half)\s*(?:-\s*)?(?:(?:mg|mcg|g|ml|cc|units?|iu|mmhg|bpm|percent|kg|kilograms?|lbs?|pounds|milligrams?|micrograms?|grams?|tablets?|pills?|puffs?|capsules?|drops?|times|degrees?)\b|%)/;
const FREQUENCY =
  /\b(?:daily|nightly|weekly|monthly|twice|once|bid|tid|qid|qd|prn|every (?:day|morning|night|evening|week|\w+ hours)|a day|per day|at night|at bedtime|in the morning|as needed)\b/;
const TIME =
  /\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|june|july|august|september|october|november|december|yesterday|tomorrow|tonight|last (?:week|month|year|night)|next (?:week|month|year)|\w+ (?:days|weeks|months|years) ago|since|(?:19|20)\d\d|\d{1,2}:\d\d|\d{1,2}\/\d{1,2}(?:\/\d{2,4})?|years? old|year-old)\b/;
const PERSON =
  /\b(?:(?:dr\.?|doctor)\s+[\p{L}-]{2,}|wife|husband|partner|mother|father|mom|dad|son|daughter|sister|brother|grandmother|grandfather|grandma|grandpa|aunt|uncle|cousin|family|caregiver|nurse|pharmacist|specialist|cardiologist|neurologist|oncologist|surgeon|therapist)\b/u;
const PREFERENCE =
  /\b(?:prefer\w*|rather|would like|i want|don't want|do not want|favorite|afraid of|worried|concern\w*|goal|call me|text me|email me)\b/;

/**
 * Default clinical salience of one sentence: medication words, doses and
 * frequencies, allergies, conditions, procedures, negations of those, dates
 * and times, people and preferences. Higher is more worth keeping; 0 means
 * nothing clinical was recognised.
 */
export function clinicalSalience(sentence: string): number {
  const s = sentence.toLowerCase();
  let meds = 0;
  for (const w of new Set(words(s))) if (isMedicationWord(w)) meds++;
  let score = Math.min(meds, 2) * 3;
  if (DOSE.test(s)) score += 2.5;
  if (FREQUENCY.test(s)) score += 1.5;
  if (ALLERGY.test(s)) score += 3;
  const condition = CONDITION.test(s);
  const procedure = PROCEDURE.test(s);
  if (condition) score += 2;
  if (procedure) score += 1.5;
  if (TIME.test(s)) score += 1.5;
  if (PERSON.test(s)) score += 1.5;
  if (PREFERENCE.test(s)) score += 1.5;
  // A negation matters when it negates something clinical ("no chest pain", "stopped the metformin").
  if (NEGATION.test(s)) score += score > 0 ? 1 : 0.25;
  return score;
}

/** Whether a (normalised) word looks like a medication name or a medication cue. */
export function isMedicationWord(word: string): boolean {
  if (MED_WORDS.has(word)) return true;
  if (word.length < 6 || MED_SUFFIX_EXCLUDED.has(word)) return false;
  return MED_SUFFIX.test(word);
}

const FILLER = new Set(
  (
    'okay ok alright all right yes yeah yep yup no nope sure thanks thank you hi hello hey how are is was good great ' +
    'nice morning afternoon evening bye goodbye see later um uh mm hmm mhm mm-hmm uh-huh oh ah well so and i am im ' +
    "i'm doing fine too perfect awesome cool sounds got it gotcha wonderful glad hear that welcome you're pleasure " +
    "meet to today very much really just that’s that's excellent fantastic lovely correct absolutely exactly " +
    'understood understand makes sense sir ma’am maam bit little pretty kind of and thing things stuff yourself me ' +
    'your the a for coming in appreciate appreciated seeing have day care everything'
  ).split(' '),
);

/** A sentence made only of greetings, thanks, backchannels and fillers ("okay.", "hi, how are you?"). */
export function isPleasantry(sentence: string): boolean {
  const ws = words(sentence);
  return ws.length === 0 || ws.every((w) => FILLER.has(w));
}

const ANSWER =
  /^(?:yes|yeah|yep|yup|no|nope|nah|not really|never|i do|i don't|i did|i didn't|i have|i haven't|correct)\b/;

/**
 * A short reply that means little without its question ("no.", "yes, i do.",
 * "no, not that i've noticed."). The summarizer attaches it to the question.
 */
export function isShortAnswer(sentence: string): boolean {
  const s = sentence.toLowerCase().trim();
  return ANSWER.test(s) && words(s).length <= 7;
}

/** The clinical names a profile already carries, by the profile section that holds them (canonical, lower-case). */
export interface KnownFacts {
  medications: ReadonlySet<string>;
  allergies: ReadonlySet<string>;
  conditions: ReadonlySet<string>;
  procedures: ReadonlySet<string>;
  /** Relations of the people in the profile ("mother", "cardiologist"). */
  people: ReadonlySet<string>;
}

/** Which profile section a lexicon sense is carried by. */
const CARRIED_BY: Partial<Record<SenseKind, readonly (keyof KnownFacts)[]>> = {
  medication: ['medications', 'allergies'],
  drugClass: ['medications', 'allergies'],
  allergen: ['allergies'],
  reaction: ['allergies', 'conditions'],
  condition: ['conditions'],
  procedure: ['procedures'],
  family: ['people'],
  clinician: ['people'],
};

const DRUG_SENSES: ReadonlySet<SenseKind> = new Set(['medication', 'drugClass']);
const ALLERGY_ONLY: readonly (keyof KnownFacts)[] = ['allergies'];

/** Senses of the extractor's lexicon that name a clinical fact (not a person or an ignored phrase). */
const CLINICAL_SENSES: readonly SenseKind[] = [
  'medication',
  'drugClass',
  'allergen',
  'reaction',
  'condition',
  'procedure',
];
/** Bonus per distinct clinical term the profile does not carry, up to {@link MAX_NOVEL_TERMS} terms. */
const NOVEL_TERM = 2;
const MAX_NOVEL_TERMS = 4;

/**
 * Salience of what a sentence says beyond the profile: the lexicon terms the
 * profile already carries are blanked out, and so are doses and frequencies
 * when every medication the sentence names is in the profile (the profile
 * keeps a medication's dose and frequency with it); what is left is scored by
 * `score` (default {@link clinicalSalience}). A sentence whose clinical
 * content the profile fully captures scores at most 0.25 (a bare negation).
 *
 * @example
 * const known = { medications: new Set(['metformin']), allergies: new Set(), conditions: new Set(['diabetes']), procedures: new Set(), people: new Set() };
 * residualSalience('I take metformin 500 mg twice a day for my diabetes.', known); // → 0
 * residualSalience('No nausea, but I get dizzy in the morning.', known); // → > 0
 */
export function residualSalience(
  sentence: string,
  known: KnownFacts,
  score: (sentence: string) => number = clinicalSalience,
): number {
  const lower = digitize(sentence.toLowerCase());
  const tokens = tokenize(lower);
  let masked = lower;
  let medications = 0;
  let knownMedications = 0;
  const novel = new Set<string>();
  const hits = termTrie().matchAll(tokens);
  // Where a sentence talks allergy ("allergic to amoxicillin"), a drug in it is carried only as an
  // allergy: the profile knowing it as a medication does not capture the allergy.
  const allergyTalk = ALLERGY.test(lower);
  for (const hit of hits) {
    const senses = hit.value;
    const sections = (Object.keys(senses) as SenseKind[]).flatMap((s) =>
      (allergyTalk && DRUG_SENSES.has(s) ? ALLERGY_ONLY : (CARRIED_BY[s] ?? [])).map(
        (section) => [section, senses[s]!] as const,
      ),
    );
    if (sections.length === 0) continue;
    const carried = sections.some(([section, name]) => known[section].has(name.toLowerCase()));
    const drug = senses.medication !== undefined || senses.drugClass !== undefined;
    if (drug) medications++;
    if (!carried) {
      if (CLINICAL_SENSES.some((s) => senses[s] !== undefined)) novel.add(sections[0]![1]);
      continue;
    }
    if (drug) knownMedications++;
    const from = tokens[hit.start]!.start;
    const to = tokens[hit.end - 1]!.end;
    masked = masked.slice(0, from) + ' '.repeat(to - from) + masked.slice(to);
  }
  if (medications > 0 && knownMedications === medications) {
    masked = masked.replace(new RegExp(DOSE.source, 'g'), ' ').replace(new RegExp(FREQUENCY.source, 'g'), ' ');
  }
  // Each clinical term the profile does not carry is what the summary is for ("any fever, chills? no").
  const bonus = NOVEL_TERM * Math.min(novel.size, MAX_NOVEL_TERMS);
  return (masked === lower ? score(sentence) : score(masked)) + bonus;
}

/** The names a profile carries, for {@link residualSalience}. */
export function knownFactsOf(profile: Profile): KnownFacts {
  const lower = (names: Iterable<string>) => new Set([...names].map((n) => n.toLowerCase()));
  return {
    medications: lower(profile.medications.map((m) => m.name)),
    allergies: lower(profile.allergies.flatMap((a) => (a.reaction ? [a.substance, a.reaction] : [a.substance]))),
    conditions: lower([
      ...profile.conditions.map((c) => c.name),
      // A relative's condition is carried too (under the relative): "my mother had breast cancer".
      ...profile.people.flatMap((p) => p.conditions.map((c) => c.replace(/^no /, ''))),
    ]),
    procedures: lower(profile.procedures.map((p) => p.name)),
    people: lower(profile.people.map((p) => p.relation)),
  };
}
