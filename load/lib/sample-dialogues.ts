/**
 * A few short visits written for this project, used only when the public
 * data sets of `../shared/data/` are not beside the checkout (a CI machine
 * without them): the quick versions of the scenarios then still replay
 * realistic turns. Full runs report which source they used.
 */
import type { Dialogue } from './dialogues.ts';

const visit = (id: string, lines: [who: 'p' | 'd', text: string][]): Dialogue => ({
  id,
  turns: lines.map(([who, content]) => ({ role: who === 'd' ? 'clinician' : 'user', content })),
});

export const SAMPLE_DIALOGUES: readonly Dialogue[] = [
  visit('sample-diabetes', [
    ['d', 'Good morning. What brings you in today?'],
    ['p', 'My blood sugar has been running high, around 220 in the mornings.'],
    ['d', 'Are you still taking metformin 500 mg twice a day?'],
    ['p', 'Yes, with breakfast and dinner. I sometimes forget the evening dose.'],
    ['d', 'Any allergies to medications?'],
    ['p', 'Penicillin gives me hives.'],
    ['d', 'We will add a morning dose of glipizide 5 mg and recheck your A1C in three months.'],
    ['p', 'Okay. Should I keep checking my sugar every morning?'],
  ]),
  visit('sample-knee', [
    ['d', 'How is the knee since the injection?'],
    ['p', 'Better for two weeks, then the pain came back when I climb stairs.'],
    ['d', 'Are you taking anything for it?'],
    ['p', 'Ibuprofen 400 mg, maybe three times a day.'],
    ['d', 'That is a lot with your blood pressure. Let us switch to acetaminophen and start physical therapy.'],
    ['p', 'My daughter can drive me to therapy on Tuesdays.'],
  ]),
  visit('sample-asthma', [
    ['d', 'Tell me about the cough.'],
    ['p', 'It is worse at night, and I get short of breath walking the dog.'],
    ['d', 'How often are you using the albuterol inhaler?'],
    ['p', 'Two puffs almost every day this month.'],
    ['d', 'I want you on a daily controller, fluticasone two puffs twice a day.'],
    ['p', 'My mother had asthma too, she used the same one.'],
    ['d', 'Good. Come back in four weeks, sooner if the breathing gets worse.'],
  ]),
  visit('sample-hypertension', [
    ['p', 'I stopped taking lisinopril because of the dry cough.'],
    ['d', 'When did you stop?'],
    ['p', 'About ten days ago. My home readings are around 150 over 95.'],
    ['d', 'We will try amlodipine 5 mg once daily instead. Any swelling in your ankles before?'],
    ['p', 'No, never. I do get headaches in the afternoon.'],
    ['d', 'Keep a log of the readings and the headaches and send it to me next week.'],
  ]),
];
