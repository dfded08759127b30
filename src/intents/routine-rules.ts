/**
 * Built-in `medication` and `scheduling` rules. Weights say how sure a single
 * cue is; several cues for one intent combine (1 − Π(1 − w)), and the router
 * needs 0.5 by default, so a lone weak cue ("pill", "available") is not
 * enough on its own.
 */
import type { IntentRule } from './types.ts';

const r = String.raw;

// Common drugs by generic and brand name, and drug classes patients name.
const DRUGS = [
  'ibuprofen|advil|motrin|acetaminophen|paracetamol|tylenol|aspirin|naproxen|aleve|celecoxib',
  'metformin|insulin|ozempic|semaglutide|jardiance|glipizide',
  'lisinopril|losartan|amlodipine|metoprolol|carvedilol|atenolol|hydrochlorothiazide|furosemide|lasix|spironolactone',
  'atorvastatin|lipitor|simvastatin|rosuvastatin|crestor|statins?',
  'warfarin|coumadin|apixaban|eliquis|rivaroxaban|xarelto|clopidogrel|plavix|heparin',
  'levothyroxine|synthroid|omeprazole|prilosec|pantoprazole|famotidine|prednisone|methylprednisolone',
  'amoxicillin|augmentin|azithromycin|z-?pack|doxycycline|ciprofloxacin|cephalexin|penicillin|nitrofurantoin',
  'sertraline|zoloft|fluoxetine|prozac|citalopram|escitalopram|lexapro|bupropion|wellbutrin|trazodone|venlafaxine',
  'alprazolam|xanax|lorazepam|ativan|diazepam|valium|gabapentin|pregabalin|lyrica|melatonin',
  'oxycodone|hydrocodone|tramadol|morphine|codeine|buprenorphine|suboxone|naloxone|narcan',
  'albuterol|inhalers?|montelukast|singulair|cetirizine|zyrtec|loratadine|claritin|benadryl|diphenhydramine',
  'levetiracetam|keppra|lamotrigine|digoxin|nitroglycerin|sildenafil|birth control|contraceptives?',
  'antibiotics?|antidepressants?|antihistamines?|blood thinners?|beta[- ]blockers?|ace inhibitors?|painkillers?|steroids?',
].join('|');

const VISIT = r`(?:appointments?|appts?|visits?|check-?ups?|consult(?:ation)?s?|follow-?ups?|telehealth|video call|session)`;
const WHEN = r`(?:mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sundays?|tomorrow|today|tonight|next (?:week|month)|this (?:week|afternoon|morning|evening)|\d{1,2}(?::\d{2})? ?(?:am|pm|a\.m\.|p\.m\.)|\d{1,2}/\d{1,2}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]* \d{1,2})`;

export const MEDICATION_RULES: readonly IntentRule[] = [
  {
    id: 'medication.dose',
    intent: 'medication',
    weight: 0.8,
    patterns: [
      r`\bdos(?:e|es|age|ages|ing)\b`,
      r`\b\d+(?:\.\d+)? ?(?:mg|mcg|µg|ml|milligrams?|micrograms?|units?)\b`,
      r`\bhow (?:much|many|often) (?:\w+ )?(?:should|can|do|may) i take\b|\b(?:once|twice|three times) (?:a|per) day\b`,
      r`\b(?:take|taking) (?:my |the |these |this )?(?:meds|medications?|medicines?|pills?|tablets?|capsules?) (?:with|on|before|after|at) (?:food|meals?|milk|an empty stomach|night|bedtime)\b`,
    ],
  },
  {
    id: 'medication.refill',
    intent: 'medication',
    weight: 0.85,
    patterns: [
      r`\brefill(?:s|ed|ing)?\b|\bprescriptions?\b|\brx\b|\bpharmac(?:y|ies|ist)\b`,
      r`\b(?:renew|reorder) (?:my |the )?(?:meds|medications?|medicines?|scripts?)\b`,
      r`\b(?:ran|run|running) out of (?:my )?(?:pills|meds|medications?|medicines?|tablets|inhaler|insulin)\b`,
    ],
  },
  {
    id: 'medication.side-effect',
    intent: 'medication',
    weight: 0.85,
    patterns: [
      r`\bside[- ]?effects?\b|\badverse (?:reaction|effect)s?\b`,
      r`\b(?:reaction|allergic) to (?:my |the |this |a )?(?:new )?(?:meds|medications?|medicines?|pills?|drugs?|antibiotics?)\b`,
      r`\bsince (?:i )?start(?:ed|ing) (?:taking |on )?(?:the |my |this |a )?(?:new )?\w+\b.{0,40}\b(?:dizzy|nause|rash|itch|sleepy|drowsy|tired)`,
    ],
  },
  {
    id: 'medication.missed-dose',
    intent: 'medication',
    weight: 0.9,
    patterns: [
      r`\b(?:missed|forgot|skipped|forget|miss|skip) (?:to take )?(?:a |my |the |one |this morning's |last night's )?(?:dose|doses|pills?|meds|medications?|medicines?|tablets?|insulin|shot)\b`,
      r`\bforgot to take\b|\bdouble (?:up|dose)\b|\btake (?:two|2|a double) (?:doses|pills|tablets)\b`,
    ],
  },
  {
    id: 'medication.interaction',
    intent: 'medication',
    weight: 0.85,
    patterns: [
      r`\binteract(?:s|ion|ions)?\b|\bcontraindicat`,
      r`\b(?:take|mix|combine|drink alcohol|drink) (?:\w+ ){0,4}(?:with|and|while on|while taking) (?:my |the |these |those )?(?:meds|medications?|medicines?|pills|alcohol|grapefruit)\b`,
    ],
  },
  {
    id: 'medication.drug-name',
    intent: 'medication',
    weight: 0.7,
    patterns: [r`\b(?:${DRUGS})\b`],
  },
  {
    id: 'medication.generic-word',
    intent: 'medication',
    weight: 0.45,
    patterns: [r`\b(?:meds|medications?|medicines?|pills?|tablets?|capsules?|drugs?)\b`],
  },
];

export const SCHEDULING_RULES: readonly IntentRule[] = [
  {
    id: 'scheduling.action',
    intent: 'scheduling',
    weight: 0.9,
    patterns: [
      r`\b(?:book|schedule|reschedule|re-schedule|cancel|move|change|postpone|push back|confirm|make|set up|arrange) (?:\w+ ){0,3}${VISIT}\b`,
      r`\b(?:reschedule|re-schedule)\b`,
    ],
  },
  {
    id: 'scheduling.visit-word',
    intent: 'scheduling',
    weight: 0.6,
    patterns: [r`\b(?:appointments?|appts?|check-?ups?|telehealth)\b`],
  },
  {
    id: 'scheduling.availability',
    intent: 'scheduling',
    weight: 0.8,
    patterns: [
      r`\b(?:any|next|earliest|first) (?:available|availability|openings?|opening|slots?|free slots?)\b`,
      r`\b(?:availability|openings?|free slots?|slots?) (?:on|for|next|this|tomorrow|today|in)\b`,
      r`\b(?:is|are) (?:dr\.? \w+|doctor \w+|the doctor|my doctor|the nurse|someone|anyone|(?:he|she|they)) (?:\w+ )?(?:available|free|in the office)\b`,
      r`\bwhen can i (?:see|come in|get in|talk to|meet)\b|\bwaiting list\b|\bwait ?list\b`,
    ],
  },
  {
    id: 'scheduling.see-clinician',
    intent: 'scheduling',
    weight: 0.55,
    patterns: [
      r`\b(?:see|visit|meet) (?:the |my |a |dr\.? |doctor )?(?:doctor|dr\.?|nurse|physician|provider|specialist|dentist|therapist|gp|clinician)\b`,
      r`\bcome in(?:to the (?:office|clinic))?\b`,
    ],
  },
  {
    id: 'scheduling.when',
    intent: 'scheduling',
    weight: 0.9,
    patterns: [
      r`\b${WHEN}\b.{0,40}\b(?:${VISIT}|come in|see (?:the |my )?(?:doctor|dr\.?|nurse))`,
      r`\b(?:${VISIT}|come in|see (?:the |my )?(?:doctor|dr\.?|nurse))\b.{0,40}\b${WHEN}`,
    ],
  },
];
