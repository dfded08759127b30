import { describe, expect, it } from 'vitest';
import { extractFacts } from '../../../src/context/profile/index.ts';
import { byId, replay } from './helpers.ts';

describe('answers read against the question they answer', () => {
  it('"Any known drug allergies?" — "No." is NKDA from the answering turn', () => {
    const p = replay([
      ['doctor', 'Any known drug allergies?'],
      ['patient', 'No.'],
    ]);
    expect(p.allergies).toEqual([
      expect.objectContaining({ id: 'allergy:drug', status: 'negated', sources: [{ turn: 2, role: 'patient' }] }),
    ]);
  });

  it('"Are you on any medications?" — "None whatsoever." is "no medications"', () => {
    const p = replay([
      ['doctor', 'Are you on any medications at this time?'],
      ['patient', 'None whatsoever.'],
    ]);
    expect(p.medications).toEqual([expect.objectContaining({ id: 'med:none', status: 'negated' })]);
  });

  it('"yes" affirms the asked medications, with the dose the answer gives', () => {
    const p = replay([
      ['doctor', 'Are you still taking Micronase every morning?'],
      ['patient', 'Yes, I take um two point five M G once a day.'],
    ]);
    expect(byId(p.medications, 'med:glyburide')).toMatchObject({
      status: 'active',
      dose: '2.5 mg',
      frequency: 'once daily',
    });
  });

  it('"no" denies the asked symptoms', () => {
    const p = replay([
      ['doctor', 'Have you had any fever or chills, cough or chest pain?'],
      ['patient', 'No.'],
    ]);
    expect(p.conditions.map((c) => [c.name, c.status])).toEqual([
      ['fever', 'negated'],
      ['chills', 'negated'],
      ['cough', 'negated'],
      ['chest pain', 'negated'],
    ]);
  });

  it('"any other ...?" — "no" does not deny the whole topic', () => {
    const p = replay([
      ['doctor', 'Any allergies?'],
      ['patient', 'Yes, I am allergic to eggs and peanuts.'],
      ['doctor', 'Anything else? Any medication?'],
      ['patient', 'No, nothing else.'],
    ]);
    expect(p.allergies.map((a) => a.id)).toEqual(['allergy:egg', 'allergy:peanut']);
    expect(p.medications).toEqual([]);
  });

  it('bare names answering an allergy question are allergens', () => {
    const p = replay([
      ['doctor', 'Do you have any allergies to medications?'],
      ['patient', 'Yes. Penicillin.'],
    ]);
    expect(p.allergies).toEqual([expect.objectContaining({ id: 'allergy:penicillin', status: 'active' })]);
    expect(p.medications).toEqual([]);
  });

  it('"What happens when you take Lortab?" — "Really bad hives." is the reaction', () => {
    const p = replay([
      ['doctor', 'Any allergies?'],
      ['patient', "Um yeah. I'm trying to remember the name. It's a pain killer that starts with an L. Oh Lortab."],
      ['doctor', 'What happens when you take Lortab?'],
      ['patient', "Really bad hives. I've only ever taken it once."],
    ]);
    expect(p.allergies).toEqual([
      expect.objectContaining({ id: 'allergy:hydrocodone/acetaminophen', reaction: 'hives' }),
    ]);
    expect(p.medications).toEqual([]);
  });

  it('the topic carries over a clarification ("Naprosyn?" — "Yes, Naprosyn.")', () => {
    const p = replay([
      ['doctor', 'Any drug allergies?'],
      ['patient', "Ah yes, I am allergic to... what's the name of the drug? It's called Napro-"],
      ['doctor', 'Naprosyn?'],
      ['patient', 'Yes, Naprosyn.'],
    ]);
    expect(p.allergies.map((a) => a.id)).toEqual(['allergy:naproxen']);
    expect(p.medications).toEqual([]);
  });

  it('a "yes" to a question that itself denies confirms the denial', () => {
    const p = replay([
      ['doctor', "So just to double check, you're not on any medications?"],
      ['patient', 'You got it. Nothing since last year.'],
    ]);
    expect(byId(p.medications, 'med:none')).toMatchObject({ status: 'negated' });
  });

  it('"Does anyone in your family have heart problems?" — "No." is about the family', () => {
    const p = replay([
      ['doctor', 'Does anyone in your family have heart problems?'],
      ['patient', 'No.'],
    ]);
    expect(p.conditions).toEqual([]);
    expect(byId(p.people, 'person:family')).toMatchObject({ conditions: ['no heart disease'] });
  });

  it('a family topic set before the question carries into a bare answer ("Skin cancer.")', () => {
    const p = replay([
      ['doctor', 'You had mentioned that cancer runs in your family. What type of cancer?'],
      ['patient', 'Skin cancer.'],
    ]);
    expect(p.conditions).toEqual([]);
    expect(byId(p.people, 'person:family')).toMatchObject({ conditions: ['cancer', 'skin cancer'] });
  });

  it('the patient\'s "she"/"someone" after naming a relative is the relative, not the patient', () => {
    const p = replay([
      ['doctor', 'Do you have any siblings that are still living?'],
      ['patient', 'I have another sister. Oh yeah. She is a diabetic.'],
      ['doctor', 'Any family history of heart disease?'],
      ['patient', 'Yes, I know someone had heart disease.'],
      ['doctor', 'And you?'],
      ['patient', 'I had chickenpox when I was a kid.'],
    ]);
    expect(byId(p.people, 'person:sister')).toMatchObject({ conditions: ['diabetes'] });
    expect(byId(p.people, 'person:family')).toMatchObject({ conditions: ['heart disease'] });
    expect(p.conditions.map((c) => c.name)).toEqual(['chickenpox']);
  });

  it('a clinician\'s "he" is the patient, even after a relative was named', () => {
    const p = replay([['doctor', 'I confirmed with his wife. He has a history of prostate cancer.']]);
    expect(byId(p.conditions, 'condition:prostate-cancer')).toMatchObject({ status: 'historical' });
  });

  it('an answer from the same speaker, or with no question before it, reads nothing extra', () => {
    const prev = { number: 1, role: 'patient', text: 'Any allergies?' };
    expect(extractFacts({ number: 2, role: 'patient', text: 'No.' }, { previous: prev })).toEqual([]);
    const statement = { number: 1, role: 'doctor', text: 'Let me check your chart.' };
    expect(extractFacts({ number: 2, role: 'patient', text: 'No.' }, { previous: statement })).toEqual([]);
  });

  it('a comparison question does not make the compared drug a medication', () => {
    const p = replay([
      ['doctor', 'But is it like better than Claritin?'],
      ['patient', 'Yes, I think so.'],
    ]);
    expect(p.medications).toEqual([]);
  });

  it('"That is correct." affirms the asked condition', () => {
    const p = replay([
      ['doctor', 'You also have a history of diabetes mellitus?'],
      ['patient', 'That is correct.'],
    ]);
    expect(byId(p.conditions, 'condition:diabetes')).toMatchObject({ status: 'historical' });
  });

  it('a copular question asks about the term right after its subject: "Are you diabetic?" — "No, …" denies it', () => {
    const p = replay([
      ['doctor', 'Are you diabetic?'],
      ['patient', "No, I don't have any such conditions."],
    ]);
    expect(byId(p.conditions, 'condition:diabetes')).toMatchObject({ status: 'negated' });
  });

  it('a question about something else named in a copular question asks nothing of it', () => {
    const p = replay([
      ['doctor', 'Are you worried about the Claritin making you sleepy?'],
      ['patient', 'Yes.'],
    ]);
    expect(p.medications).toEqual([]);
  });

  it('smoking and drinking questions are answered: "No I do not." denies both; "Yes, …" affirms', () => {
    const denied = replay([
      ['doctor', 'Okay, and do you smoke or drink alcohol?'],
      ['patient', 'No I do not.'],
    ]);
    expect(byId(denied.conditions, 'condition:tobacco-use')).toMatchObject({ status: 'negated' });
    expect(byId(denied.conditions, 'condition:alcohol-use')).toMatchObject({ status: 'negated' });
    const smoker = replay([
      ['doctor', 'Are you a smoker?'],
      ['patient', 'Yes, I have been for a long time.'],
    ]);
    expect(byId(smoker.conditions, 'condition:tobacco-use')).toMatchObject({ status: 'active' });
  });

  it('"and …" carries on an allergy list the previous speaker of the same role stated (two clinicians)', () => {
    const p = replay([
      ['clinician', 'Okay, so he is allergic to Lamisil, Equagesic. Oh, he is allergic to Bactrim too.'],
      ['clinician', 'Yeah, and Dilatrate and cyclobenzaprine.'],
    ]);
    expect(p.allergies.map((a) => a.id)).toEqual(
      expect.arrayContaining(['allergy:isosorbide-dinitrate', 'allergy:cyclobenzaprine']),
    );
    expect(p.medications).toEqual([]);
  });

  it('a same-role turn that does not carry on is not read as part of the list', () => {
    const p = replay([
      ['clinician', 'He is allergic to Bactrim.'],
      ['clinician', 'He takes cyclobenzaprine at night.'],
    ]);
    expect(byId(p.medications, 'med:cyclobenzaprine')).toMatchObject({ status: 'active' });
    expect(byId(p.allergies, 'allergy:cyclobenzaprine')).toBeUndefined();
  });
});
