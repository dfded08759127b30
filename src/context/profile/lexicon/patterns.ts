/**
 * Regular patterns and cue phrases: doses, frequencies, routes, and the
 * words that say a fact is negated, stopped, started, historical, or about
 * an allergy or the family. Patterns run on normalised lower-case text in
 * which spoken numbers are already digits ("two point five m g" → "2.5 mg").
 */

/** A dose: amount (or ratio) and unit. Lab units such as mg/dl are excluded. */
export const DOSE_PATTERN =
  /\b(\d+(?:\.\d+)?(?:\s*\/\s*\d+(?:\.\d+)?)?)\s*(mg|milligrams?|mgs|mcg|micrograms?|µg|g|grams?|ml|milliliters?|cc|units?|iu|puffs?|tablets?|tabs?|pills?|capsules?|caps?|drops?|sprays?|patch(?:es)?|meq|%)(?![a-z]|\s*\/\s*(?:dl|l)\b)/g;

const UNIT_NAMES: Readonly<Record<string, [singular: string, plural: string]>> = {
  mg: ['mg', 'mg'],
  mcg: ['mcg', 'mcg'],
  g: ['g', 'g'],
  ml: ['ml', 'ml'],
  iu: ['iu', 'iu'],
  meq: ['meq', 'meq'],
  unit: ['unit', 'units'],
  puff: ['puff', 'puffs'],
  tablet: ['tablet', 'tablets'],
  capsule: ['capsule', 'capsules'],
  drop: ['drop', 'drops'],
  spray: ['spray', 'sprays'],
  patch: ['patch', 'patches'],
  '%': ['%', '%'],
};

/** Normalise a dose unit as written ("milligrams", "tabs", "cc") to its short form. */
export function normalizeUnit(unit: string, amount: string): string {
  const u = unit.toLowerCase();
  let key: string;
  if (/^(mg|mgs|milligrams?)$/.test(u)) key = 'mg';
  else if (/^(mcg|micrograms?|µg)$/.test(u)) key = 'mcg';
  else if (/^(g|grams?)$/.test(u)) key = 'g';
  else if (/^(ml|milliliters?|cc)$/.test(u)) key = 'ml';
  else if (/^(tablets?|tabs?|pills?)$/.test(u)) key = 'tablet';
  else if (/^(capsules?|caps?)$/.test(u)) key = 'capsule';
  else if (/^patch(es)?$/.test(u)) key = 'patch';
  else key = u.replace(/s$/, '');
  const names = UNIT_NAMES[key] ?? [u, u];
  return amount === '1' ? names[0] : names[1];
}

const COUNT_WORDS: Readonly<Record<string, string>> = {
  '2': 'twice',
  '3': 'three times',
  '4': 'four times',
  '5': 'five times',
  '6': 'six times',
};
const times = (n: string | undefined): string => COUNT_WORDS[n ?? ''] ?? `${n} times`;

/** Frequency patterns, most specific first, each with its normalised wording. */
export const FREQUENCY_PATTERNS: ReadonlyArray<readonly [RegExp, (m: RegExpExecArray) => string]> = [
  [/\bevery (\d+) (?:to|-|or) (\d+) hours?\b/g, (m) => `every ${m[1]}-${m[2]} hours`],
  [/\b(?:every|q) ?(\d+) ?(?:hours?|hrs?|h)\b/g, (m) => (m[1] === '24' ? 'once daily' : `every ${m[1]} hours`)],
  [/\bevery (\d+) (day|week|month)s?\b/g, (m) => `every ${m[1]} ${m[2]}s`],
  [/\bevery other (day|week)\b|\bq\.?o\.?d\b/g, (m) => `every other ${m[1] ?? 'day'}`],
  [/\b(?:(\d+) times|twice) (?:a|per|each|every) day\b/g, (m) => `${times(m[1] ?? '2')} daily`],
  [/\b(?:(\d+) times|twice) (?:a|per|each|every) week\b/g, (m) => `${times(m[1] ?? '2')} weekly`],
  [/\btwice daily\b|\bb\.?i\.?d\b/g, () => 'twice daily'],
  [/\bt\.?i\.?d\b|\bthree times daily\b/g, () => 'three times daily'],
  [/\bq\.?i\.?d\b|\bfour times daily\b/g, () => 'four times daily'],
  [
    /\b(?:prn|p\.r\.n|as needed|when needed|if needed|as necessary|when i need (?:it|them|to)|on an? as needed basis|from time to time|as required)\b/g,
    () => 'as needed',
  ],
  [/\b(?:at bedtime|before bed|before going to bed|q\.?h\.?s|at bed time)\b/g, () => 'at bedtime'],
  [/\b(?:at night|nightly|every night|each night)\b/g, () => 'at night'],
  [/\b(?:every morning|in the morning|each morning|q\.?a\.?m|in the mornings)\b/g, () => 'every morning'],
  [/\b(?:every evening|in the evening|each evening)\b/g, () => 'every evening'],
  [/\b(?:once (?:a|per|each) week|weekly|every week|once weekly)\b/g, () => 'weekly'],
  [/\b(?:once (?:a|per|each) month|monthly|every month)\b/g, () => 'monthly'],
  [
    /\b(?:once (?:a|per|each) day|1 time (?:a|per) day|once daily|daily|every day|each day|everyday|a day|per day|q\.?d|qday|once a day)\b/g,
    () => 'once daily',
  ],
  [/\b(?:with meals|with food|before meals|after meals)\b/g, () => 'with meals'],
];

/** Route patterns with their normalised names. */
export const ROUTE_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(?:by mouth|orally|p\.?o)\b/g, 'oral'],
  [/\b(?:inhaled|inhaler|inhalers|nebulizer|nebulized|puffs?)\b/g, 'inhaled'],
  [/\b(?:nasal spray|nasal inhaler|nasally|intranasal|in the nose|nose spray)\b/g, 'nasal'],
  [/\b(?:injections?|injected|injectable|shots?|subcutaneous(?:ly)?|sub-?q|sq|intramuscular(?:ly)?)\b/g, 'injection'],
  [/\b(?:iv|intravenous(?:ly)?|infusions?)\b/g, 'intravenous'],
  [/\b(?:topical(?:ly)?|creams?|ointments?|gel|lotion)\b/g, 'topical'],
  [/\b(?:patch|patches|transdermal)\b/g, 'transdermal'],
  [/\b(?:eye drops?|ophthalmic)\b/g, 'ophthalmic'],
  [/\b(?:sublingual(?:ly)?|under the tongue)\b/g, 'sublingual'],
  [/\b(?:suppositor(?:y|ies)|rectal(?:ly)?)\b/g, 'rectal'],
];

/** Cue categories a phrase can carry. */
export type CueType =
  | 'neg'
  | 'pseudo'
  | 'stop'
  | 'stopPost'
  | 'start'
  | 'active'
  | 'hist'
  | 'histAny'
  | 'switch'
  | 'allergy'
  | 'family'
  | 'died'
  | 'term'
  | 'besides'
  | 'hedge';

const list = (phrases: string): readonly string[] => phrases.split('|').map((p) => p.trim());

/** Cue phrases by category (matched as whole tokens; apostrophes are dropped: "don't" → "dont"). */
export const CUES: Readonly<Record<CueType, readonly string[]>> = {
  neg: list(
    'no|not|never|denies|denied|deny|denying|without|negative for|free of|none|nor|neither|dont|doesnt|didnt|havent|' +
      'hasnt|wasnt|werent|do not|does not|did not|have not|has not|not taking|not on|dont take|doesnt take|never took|' +
      'never taken|havent taken|not allergic|no known|no history of|no signs of|no evidence of|nobody|no one|' +
      'ruled out|absence of|nothing|never had|never been|never have|not had|no prior|never used|never smoked|' +
      'havent had|hasnt had|have not had|has not had|never did',
  ),
  pseudo: list(
    'not sure|not certain|no change|not only|no increase|not necessarily|not just|no problem|no problems with|' +
      'not helping|not working|not that bad|not as|not too|no doubt|not much|dont know|not know|dont remember|' +
      'not remember|dont think|not think|not really sure|no matter|not bad|dont believe|not believe|dont worry|' +
      'not worry|didnt help|doesnt help|not help|didnt work|doesnt work|not seem|dont seem|doesnt seem|didnt seem|' +
      'not notice|not noticed|no improvement|not improved|not gotten|havent gotten|no relief|not relieve|' +
      'not control|not controlled|not well controlled|not been able|cant remember|not recall|dont recall|not like|' +
      'dont like|not want|dont want|dont need|not need|not gonna|no issues with|not bothering|no side effects|' +
      'not causing|no complaints|dont have to|do not have to|not have to|dont need to|no need|not going to|' +
      'doesnt have to|didnt have to',
  ),
  stop: list(
    'stopped|stop|stopping|quit|quitting|discontinued|discontinue|discontinuing|no longer|came off|come off|went off|' +
      'go off|taken off|took me off|take you off|take him off|take her off|taking you off|weaned off|d/c|dced|held|' +
      'hold|holding|ran out of|run out of|used to take|used to be on|not been taking|havent been taking|off|off of|' +
      'stopped taking|gave up|give up',
  ),
  stopPost: list('stopped|discontinued|anymore|any more|no longer|held|quit'),
  start: list(
    'started|start|starting|restarted|restart|resumed|resume|back on|began|begin|prescribed|prescribe|prescribing|' +
      'put me on|put you on|put him on|put her on|put on|switched to|changed to|increase|increased|decrease|' +
      'decreased|continue|continuing|continued|still taking|still on|refill|refilled|initiate|initiated',
  ),
  active: list(
    'taking|take|takes|took|on|using|use|uses|apply|applying|applied|have|has|diagnosed with|diagnosis of|suffer from|suffering from|' +
      'suffers from|treated for|dealing with|struggling with|my|your|ive got|got',
  ),
  hist: list(
    'history of|hx of|h/o|past history of|past medical history|medical history of|used to have|previous|previously|' +
      'prior|had|childhood|used to|formerly',
  ),
  histAny: list(
    'in the past|as a child|as a kid|years ago|when i was|resolved|long time ago|back in|growing up|at some point|' +
      'a while back|years back|in high school|in college',
  ),
  switch: list('switched|switch|switching|changed|change|changing|went from|replaced|swapped|instead of'),
  allergy: list(
    'allergic|allergy|allergies|allergic reaction|reaction to|reactions to|reacts to|reacted to|intolerant|' +
      'intolerance|sensitive to|sensitivity to|cant take|cannot take|can not take|nkda|nka|react to|not allergic',
  ),
  family: list(
    'family history|family hx|fhx|runs in the family|runs in my family|run in the family|run in my family|' +
      'runs in our family|in the family|in my family|in your family|side of the family|both sides of my family|' +
      'family members|family member|anyone in your family|family medical history|in his family|in her family|' +
      'runs in|run in|his family|her family',
  ),
  died: list('died|passed|passed away|deceased|died of|died from|lost'),
  term: list(
    'who|but|however|although|though|except|yet|whereas|which|other than|aside from|apart from|unless|because|since|so',
  ),
  hedge: list(
    'could be|might be|may be|maybe|possible|possibly|concerned about|concerned that|concerning for|worried about|' +
      'worried that|rule out|to rule out|r/o|to see if|check for|checking for|evaluate for|evaluating for|look for|' +
      'looking for|suspect|suspicion of|screen for|screening for|in case|risk of|risk for|at risk|prevent|whether',
  ),
  besides: list('besides|other than|in addition to|apart from|aside from|along with|exception of|except for'),
};

/** Words that open a wh-question (which may presuppose "your diabetes"). */
export const WH_WORDS = new Set(['how', 'what', 'when', 'why', 'which', 'where', 'who', 'whats', 'hows']);
