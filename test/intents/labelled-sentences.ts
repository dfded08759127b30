/**
 * The labelled table the router is judged on. Kept apart from the probe set
 * (which backs /readyz) so the two do not merely restate each other.
 */
import type { BuiltinIntent } from '../../src/intents/index.ts';

export interface LabelledSentence {
  text: string;
  expected: BuiltinIntent;
  /** What the sentence is there to prove. */
  note?: string;
}

export const EMERGENCY: readonly LabelledSentence[] = [
  { text: 'I have chest pain', expected: 'emergency' },
  { text: 'i have chest pain .', expected: 'emergency', note: 'tokenised, lower-cased' },
  { text: 'There is a heavy pressure in my chest and I am sweating', expected: 'emergency' },
  { text: 'I think I am having a heart attack', expected: 'emergency' },
  { text: "I can't breathe", expected: 'emergency' },
  { text: "i ca n't catch my breath", expected: 'emergency', note: 'Penn-style split contraction' },
  { text: 'i cant breathe', expected: 'emergency', note: 'no apostrophe' },
  { text: 'I get short of breath even at rest', expected: 'emergency' },
  { text: 'Her lips are turning blue', expected: 'emergency' },
  { text: 'My mom’s face is drooping on one side', expected: 'emergency' },
  { text: 'his speech is slurred and he seems confused', expected: 'emergency' },
  { text: 'Suddenly my right arm went weak', expected: 'emergency' },
  { text: 'This is the worst headache of my life', expected: 'emergency' },
  { text: 'I cut my hand and the bleeding won’t stop', expected: 'emergency' },
  { text: 'My throat feels like it is closing', expected: 'emergency' },
  { text: 'I used my EpiPen and my tongue is swelling up', expected: 'emergency' },
  { text: 'My grandfather collapsed and is unresponsive', expected: 'emergency' },
  { text: "I can't wake my husband up", expected: 'emergency' },
  { text: 'The baby is not breathing', expected: 'emergency' },
  { text: 'My daughter is having a seizure', expected: 'emergency' },
  { text: 'I think I overdosed on my pills', expected: 'emergency' },
  { text: 'My toddler swallowed some bleach', expected: 'emergency' },
  { text: 'I want to kill myself', expected: 'emergency' },
  { text: "I'm going to end it", expected: 'emergency' },
  { text: 'im going to end it all tonight', expected: 'emergency' },
  { text: 'I have been thinking about suicide', expected: 'emergency' },
  { text: "I don't want to live anymore", expected: 'emergency', note: 'negation is part of the ideation' },
  { text: 'Everyone would be better off if I was dead, I just want to die', expected: 'emergency' },
  { text: "I've been cutting myself again", expected: 'emergency' },
  {
    text: "I haven't been able to breathe properly for an hour",
    expected: 'emergency',
    note: 'negation inside the sign',
  },
  { text: 'I feel like I am dying', expected: 'emergency', note: 'impending doom' },
  { text: 'I have no appetite and I have chest pain', expected: 'emergency', note: 'negation scope ends at "and I"' },
  { text: "I'm not sure but I think I have chest pain", expected: 'emergency', note: 'pseudo-negation' },
  { text: "I've never had chest pain like this before", expected: 'emergency', note: '"never ... like this"' },
  { text: 'No, I still have chest pain', expected: 'emergency', note: 'the "no" answers, it does not negate' },
  { text: 'Chest pain with no relief from rest', expected: 'emergency' },
  { text: 'I took my nitroglycerin but the chest pain is still there', expected: 'emergency', note: 'emergency wins' },
  { text: 'Can I reschedule? I have chest pain right now', expected: 'emergency', note: 'emergency wins' },
];

export const NOT_EMERGENCY: readonly LabelledSentence[] = [
  { text: 'No chest pain today', expected: 'general', note: 'negated' },
  { text: 'i have no chest pain .', expected: 'general', note: 'negated, tokenised' },
  { text: 'I deny any chest pain or shortness of breath', expected: 'general' },
  { text: "I don't have chest pain anymore", expected: 'general' },
  { text: 'Chest pain: none', expected: 'general', note: 'post-negation' },
  { text: "I'm dying to try that new restaurant", expected: 'general', note: 'false friend' },
  { text: "I don't want to die, I'm just scared of the operation", expected: 'general', note: 'fear, not ideation' },
  { text: "I'm not suicidal, just very tired", expected: 'general', note: 'explicit denial' },
  { text: 'This traffic is killing me', expected: 'general', note: 'false friend' },
  { text: "I can't breathe through my nose with this cold", expected: 'general', note: 'false friend' },
  { text: 'I got poison ivy on my arm', expected: 'general', note: 'false friend' },
  { text: 'I think I have food poisoning from the sushi', expected: 'general', note: 'false friend' },
  { text: 'My father had a stroke years ago', expected: 'general', note: 'history' },
  { text: 'I had a seizure as a kid', expected: 'general', note: 'history' },
  { text: 'I hurt myself lifting boxes at work', expected: 'general', note: 'injury, not self-harm' },
  { text: "I'm going to end it with my boyfriend", expected: 'general', note: 'false friend' },
  { text: 'That joke was so funny I almost died laughing', expected: 'general', note: 'false friend' },
  { text: "That's odd, my knee clicks when I walk", expected: 'general', note: '"odd" is not "od\'d"' },
  { text: "I'm choking back tears reading this", expected: 'general', note: 'false friend' },
  { text: 'I have a sore throat and a runny nose', expected: 'general' },
  { text: 'I need a refill of my seizure medication', expected: 'medication', note: 'drug class, not a seizure' },
  { text: "Can't talk now, can we reschedule my appointment?", expected: 'scheduling', note: 'not a speech problem' },
];

export const MEDICATION: readonly LabelledSentence[] = [
  { text: 'Can I get a refill on my lisinopril?', expected: 'medication' },
  { text: 'What dose of ibuprofen is safe for me?', expected: 'medication' },
  { text: 'i missed my dose of metformin last night .', expected: 'medication' },
  { text: 'Is it okay to take tylenol with my blood thinner?', expected: 'medication' },
  { text: 'Does atorvastatin interact with grapefruit juice?', expected: 'medication' },
  { text: 'I think the new antidepressant is giving me side effects', expected: 'medication' },
  { text: 'How many mg of prednisone should I be on?', expected: 'medication' },
  { text: 'I ran out of my inhaler and the pharmacy is closed', expected: 'medication' },
  { text: 'Should I take my pills with food?', expected: 'medication' },
  { text: 'My prescription for amoxicillin expired', expected: 'medication' },
];

export const SCHEDULING: readonly LabelledSentence[] = [
  { text: 'I need to book an appointment', expected: 'scheduling' },
  { text: 'Can I reschedule my visit to Thursday?', expected: 'scheduling' },
  { text: 'please cancel my appointment tomorrow', expected: 'scheduling' },
  { text: 'What is the earliest available slot next week?', expected: 'scheduling' },
  { text: 'Is the doctor available on Monday afternoon?', expected: 'scheduling' },
  { text: 'Could I come in on the 12th at 9am for a check-up?', expected: 'scheduling' },
  { text: 'When can I see a specialist?', expected: 'scheduling' },
  { text: 'i would like to move my follow-up to 3 pm .', expected: 'scheduling' },
  { text: 'Do you have any openings on Friday?', expected: 'scheduling' },
];

export const GENERAL: readonly LabelledSentence[] = [
  { text: 'Hello, how are you today?', expected: 'general' },
  { text: 'What does a high cholesterol number mean?', expected: 'general' },
  { text: 'Thanks, that was really helpful', expected: 'general' },
  { text: 'How much water should I drink each day?', expected: 'general' },
  { text: 'My knee has been sore since my run on Sunday', expected: 'general' },
  { text: 'Can you explain my blood test results?', expected: 'general' },
  { text: 'I feel a bit tired after work lately', expected: 'general' },
];

export const TABLE: readonly LabelledSentence[] = [
  ...EMERGENCY,
  ...NOT_EMERGENCY,
  ...MEDICATION,
  ...SCHEDULING,
  ...GENERAL,
];
