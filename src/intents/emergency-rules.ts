/**
 * Built-in `emergency` rules. Every rule has weight 1: one clear sign is
 * enough. Symptom rules are negatable ("no chest pain", "seizure years ago");
 * the suicidal-ideation rules that carry their own negation ("don't want to
 * live") are not, and neither are explicit self-harm statements — a stray
 * "not" must never hide them.
 */
import type { IntentRule } from './types.ts';

const r = String.raw;
const PERSON = r`(?:my|his|her|their|the)`;
// "Can't breathe through my nose" is a cold; "hard to breathe when I run" is exertional.
const BREATHE = r`(?:breathe|catch (?:my|his|her|their) breath)\b(?! (?:through|out of) ${PERSON} nose| when i (?:run|exercise|climb|walk|jog)| (?:during|after) (?:exercise|running|workouts?))`;

export const EMERGENCY_RULES: readonly IntentRule[] = [
  {
    id: 'emergency.chest-pain',
    intent: 'emergency',
    weight: 1,
    negatable: true,
    patterns: [
      r`\bchest (?:pains?|pressure|tightness|discomfort)\b`,
      r`\b(?:pain|pressure|tightness|squeezing|heaviness) in ${PERSON} chest\b`,
      r`\b${PERSON} chest (?:hurts|is hurting|feels (?:tight|heavy|crushed)|is (?:tight|heavy))\b`,
      r`\bcrushing (?:pain|pressure)\b`,
      r`\b(?:having|have) a heart attack\b`,
    ],
  },
  {
    id: 'emergency.breathing',
    intent: 'emergency',
    weight: 1,
    negatable: true,
    patterns: [
      r`\b(?:can't|cannot|can barely|couldn't|unable to|struggling to|hard to|difficult to) ${BREATHE}`,
      r`\b(?:haven't|have not|hasn't|has not|isn't|is not|wasn't|not) (?:been )?able to ${BREATHE}`,
      r`\b(?:short(?:ness)? of breath|breathless|out of breath)\b.{0,30}\b(?:at rest|resting|sitting (?:still|down)|lying (?:down|still)|doing nothing|asleep)\b`,
      r`\b(?:at rest|while resting|sitting still|doing nothing)\b.{0,30}\b(?:short(?:ness)? of breath|breathless|out of breath)\b`,
      r`\bgasping for (?:air|breath)\b`,
      r`\b(?:lips|face|skin) (?:(?:are|is|has|have) )?(?:(?:turning|turned|going|gone|went) )?(?:blue|grey|gray)\b`,
      r`\bchoking\b(?! (?:back|on (?:my|his|her) words))`,
    ],
  },
  {
    id: 'emergency.stroke',
    intent: 'emergency',
    weight: 1,
    negatable: true,
    patterns: [
      r`\b(?:face|mouth|smile|lip)s? (?:is |are |has |have |started |starting |seems |looks )?(?:droop(?:ing|ed|y|s)?|sagging|lopsided|uneven)\b`,
      r`\bdrooping (?:face|mouth|smile)\b|\bone side of ${PERSON} (?:face|body) (?:is |has |went |feels |looks )?(?:droop(?:ing|ed|y)?|numb|slack|paraly[sz]ed|frozen|sagging|weak)\b`,
      r`\b(?:arm|leg) weakness\b|\bweakness (?:in|on) (?:one|${PERSON}) (?:(?:left|right) )?(?:arm|leg|side)\b`,
      r`\bsudden(?:ly)?\b.{0,30}\b(?:weak|weakness|numb|numbness|limp)\b`,
      r`\b(?:weak|weakness|numb|numbness) on one side\b|\b(?:face|arm|leg) (?:is |went |feels )?(?:numb|weak) on one side\b`,
      r`\bslurr(?:ed|ing) (?:speech|words|(?:my|his|her|their) (?:words|speech))\b|\b(?:speech|words) (?:is |are |sounds? )?slurred\b`,
      r`\b(?:suddenly|sudden) (?:can't|cannot|unable to) (?:speak|talk|understand)\b|\bwords (?:are|come out) (?:jumbled|garbled)\b`,
      r`\bworst headache of (?:my|his|her|their) life\b|\bthunderclap headache\b`,
      r`\bsudden(?:ly)?,? (?:a |the )?(?:severe|terrible|excruciating|splitting|intense|explosive|blinding) headache\b`,
      r`\bhaving a stroke\b`,
    ],
  },
  {
    id: 'emergency.impending-doom',
    intent: 'emergency',
    weight: 1,
    negatable: true,
    patterns: [
      r`\b(?:think|feel like|feels like|scared|afraid|worried) (?:i'm|i am|he's|she's|he is|she is) dying\b(?! (?:to|for|of (?:boredom|laughter|embarrassment))\b)`,
    ],
  },
  {
    id: 'emergency.bleeding',
    intent: 'emergency',
    weight: 1,
    negatable: true,
    patterns: [
      r`\b(?:severe|uncontrolled|uncontrollable|massive|serious|profuse) bleeding\b`,
      r`\bbleeding (?:heavily|badly|profusely|everywhere|non-?stop)\b|\bnose ?bleed (?:that )?(?:won't|will not) stop\b`,
      r`\b(?:bleeding|blood) (?:that )?(?:won't|will not|doesn't|does not|isn't going to) stop\b|\b(?:can't|cannot|couldn't) stop (?:the |his |her |my )?bleeding\b`,
      r`\b(?:coughing|vomiting|throwing) up blood\b|\bblood (?:is )?(?:pouring|gushing|spurting)\b|\bsoak(?:ed|ing) through (?:\w+ ){0,3}(?:bandages?|towels?|pads?|gauze)\b`,
    ],
  },
  {
    id: 'emergency.anaphylaxis',
    intent: 'emergency',
    weight: 1,
    negatable: true,
    patterns: [
      r`\banaphyla(?:xis|ctic)\b|\bsevere allergic reaction\b`,
      r`\bthroat (?:is |feels (?:like it's )?|feels like it is )?(?:closing|swelling|tightening|closing up|swollen shut)\b`,
      r`\b(?:tongue|lips?|face|throat) (?:is |are |started |starting )?(?:swelling|swollen|blowing) up\b|\bswelling (?:of|in) ${PERSON} (?:throat|tongue)\b`,
      r`\b(?:used|had to use|injected|gave (?:him|her|them)) (?:my|his|her|an|the) epi-?pens?\b`,
    ],
  },
  {
    id: 'emergency.unresponsive',
    intent: 'emergency',
    weight: 1,
    negatable: true,
    patterns: [
      r`\bunconscious\b|\bunresponsive\b|\bno pulse\b`,
      r`\b(?:passed|blacked) out\b|\bcollapsed\b|\bfainted\b`,
      r`\b(?:isn't|is not|not|stopped) breathing\b`,
      r`\b(?:can't|cannot|couldn't) wake (?:him|her|them|(?:my|the) \w+)(?: up)?\b`,
    ],
  },
  {
    id: 'emergency.seizure',
    intent: 'emergency',
    weight: 1,
    negatable: true,
    patterns: [
      r`\bseizures?\b(?![- ](?:med|meds|medications?|medicines?|drugs?|pills?|disorder|history|free|threshold|action plan)\b)`,
      r`\bseizing\b|\bconvuls(?:ing|ions?|ed)\b|\bhaving a fit\b`,
    ],
  },
  {
    id: 'emergency.overdose',
    intent: 'emergency',
    weight: 1,
    negatable: true,
    patterns: [
      r`\boverdos(?:e|ed|ing)\b|\bod'd\b`,
      r`\b(?:took|taken|swallowed|ate) (?:a |the )?(?:whole|entire|full) (?:bottle|pack|packet|box)\b`,
      r`\b(?:took|taken|swallowed) (?:way )?too many (?:pills|tablets|capsules)\b|\b(?:took|taken|swallowed) all (?:of )?(?:my|his|her|the) (?:pills|tablets|meds)\b`,
    ],
  },
  {
    id: 'emergency.poisoning',
    intent: 'emergency',
    weight: 1,
    negatable: true,
    patterns: [
      r`(?<!food )\bpoison(?:ed|ing)?\b(?! (?:ivy|oak|sumac)\b)`,
      r`\b(?:swallowed|drank|ate|drunk|ingested) (?:some )?(?:bleach|detergent|antifreeze|drain cleaner|rat poison|pesticide|weed killer|a (?:button )?battery|laundry pods?|a laundry pod|cleaning (?:fluid|product))\b`,
      r`\bcarbon monoxide\b`,
    ],
  },
  {
    id: 'emergency.self-harm',
    intent: 'emergency',
    weight: 1,
    negatable: false,
    patterns: [
      r`\bkill(?:ing)? myself\b|\b(?:harm|harming|cutting) myself\b`,
      r`\b(?:want|wanted|going|gonna|plan|planning|urge|urges|thinking about|thought about|thoughts of|feel like|might) (?:to )?(?:hurt|hurting|harm|harming|cut|cutting) myself\b`,
      r`\b(?:end|ending|take|taking) my (?:own )?life\b`,
      r`\b(?:going to|gonna|want to|wanna|will|plan to|planning to|about to|ready to) end it(?: all)?\b(?! (?:here|there|for (?:today|now)|early)\b| with (?:him|her|them|my (?:boyfriend|girlfriend|partner|husband|wife)))`,
      r`\bend it all\b|\bbetter off dead\b|\bno (?:reason|point) (?:to|in) (?:live|living|go on|going on)\b`,
      r`\b(?:don't|do not) want to (?:live|be alive|be here|wake up|exist|go on)(?: anymore)?\b`,
      r`\b(?:can't|cannot) go on (?:anymore|like this|living)\b`,
    ],
  },
  {
    id: 'emergency.suicidal-ideation',
    intent: 'emergency',
    weight: 1,
    // Honours explicit denials ("I'm not suicidal", "no thoughts of suicide").
    negatable: true,
    patterns: [r`\bsuicid(?:e|al)\b`, r`\bself[- ]?harm(?:ing)?\b`, r`\b(?:i )?want to die\b`],
  },
];
