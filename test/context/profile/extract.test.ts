import { describe, expect, it } from 'vitest';
import { byId, facts } from './helpers.ts';

describe('extractFacts: medications, doses and frequencies', () => {
  it('attaches dose and frequency to the medication in the sentence', () => {
    expect(byId(facts('I take metformin 500 mg twice a day.'), 'med:metformin')).toMatchObject({
      kind: 'medication',
      name: 'metformin',
      dose: '500 mg',
      frequency: 'twice daily',
      status: 'active',
      source: { turn: 1, role: 'patient' },
    });
  });

  it('reads a dose before the drug and a frequency after it', () => {
    expect(byId(facts('I take 20 mg of lisinopril every morning.'), 'med:lisinopril')).toMatchObject({
      dose: '20 mg',
      frequency: 'every morning',
    });
  });

  it('gives each of two medications its nearest dose and frequency', () => {
    const m = facts('I take lisinopril 10 mg daily and metformin 1000 mg twice a day.');
    expect(byId(m, 'med:lisinopril')).toMatchObject({ dose: '10 mg', frequency: 'once daily' });
    expect(byId(m, 'med:metformin')).toMatchObject({ dose: '1000 mg', frequency: 'twice daily' });
  });

  it('normalises spoken numbers, abbreviations and brand names', () => {
    expect(byId(facts('I take Micronase two point five M G b.i.d.'), 'med:glyburide')).toMatchObject({
      dose: '2.5 mg',
      frequency: 'twice daily',
    });
    expect(byId(facts('Tylenol as needed for pain.'), 'med:acetaminophen')).toMatchObject({ frequency: 'as needed' });
    expect(byId(facts('albuterol inhaler 2 puffs every 4 hours prn'), 'med:albuterol')).toMatchObject({
      dose: '2 puffs',
      route: 'inhaled',
    });
    expect(byId(facts('Advil at bedtime'), 'med:ibuprofen')).toMatchObject({ frequency: 'at bedtime' });
  });

  it('attaches a dose in a later sentence to the medication just named', () => {
    const m = facts('I am on Synthroid. It is 75 mcg once a day.');
    expect(byId(m, 'med:levothyroxine')).toBeDefined();
    expect(m.filter((x) => x.id === 'med:levothyroxine').at(-1)).toMatchObject({
      dose: '75 mcg',
      frequency: 'once daily',
    });
  });

  it('names drug classes and lay names by class', () => {
    expect(byId(facts('I take my blood pressure medicine every day.'), 'med:antihypertensive')).toBeDefined();
    expect(byId(facts("I'm on a blood thinner."), 'med:anticoagulant')).toBeDefined();
  });
});

describe('extractFacts: change of status', () => {
  it.each([
    ['I stopped taking metformin.', 'stopped'],
    ['The doctor discontinued my lisinopril.', 'stopped'],
    ["I'm no longer on metformin.", 'stopped'],
    ["I'm not taking metformin anymore.", 'stopped'],
    ["I'm back on metformin.", 'active'],
    ['We started him on metformin last week.', 'active'],
    ["I don't take metformin.", 'negated'],
    ['I used to take metformin.', 'stopped'],
  ])('%s → %s', (text, status) => {
    const m = facts(text).find((x) => x.kind === 'medication');
    expect(m).toMatchObject({ status, explicit: true });
  });

  it('switches: the old drug stops and the new one is active', () => {
    const m = facts('They switched me from lisinopril to losartan because of the cough.');
    expect(byId(m, 'med:lisinopril')).toMatchObject({ status: 'stopped' });
    expect(byId(m, 'med:losartan')).toMatchObject({ status: 'active' });
  });

  it('reads "stopped it" against the medication just named', () => {
    const m = facts('I was on Zoloft for a year. I stopped it in March.');
    expect(m.filter((x) => x.id === 'med:sertraline').at(-1)).toMatchObject({ status: 'stopped' });
  });
});

describe('extractFacts: negation', () => {
  it.each(['No known drug allergies.', 'NKDA', 'I have no allergies.', "I'm not allergic to anything."])(
    '%s → one negated "drug" allergy',
    (text) => {
      const allergies = facts(text).filter((x) => x.kind === 'allergy');
      expect(allergies).toEqual([
        expect.objectContaining({ id: 'allergy:drug', substance: 'drug', status: 'negated' }),
      ]);
    },
  );

  it('negates conditions after "denies", "don\'t have", "never had"', () => {
    const m = facts("Denies chest pain. I don't have diabetes. I never had surgery.");
    expect(byId(m, 'condition:chest-pain')).toMatchObject({ status: 'negated' });
    expect(byId(m, 'condition:diabetes')).toMatchObject({ status: 'negated' });
    expect(byId(m, 'procedure:surgery')).toMatchObject({ status: 'negated' });
  });

  it('"not taking any medications" is one negated "none" medication', () => {
    expect(facts('No, not taking any medications.')).toEqual([
      expect.objectContaining({ id: 'med:none', status: 'negated' }),
    ]);
  });

  it('a negation does not cross "but"', () => {
    const m = facts("I don't have asthma but I do have high blood pressure.");
    expect(byId(m, 'condition:asthma')).toMatchObject({ status: 'negated' });
    expect(byId(m, 'condition:hypertension')).toMatchObject({ status: 'active' });
  });

  it('pseudo-negations do not negate ("not sure the Allegra is helping")', () => {
    expect(byId(facts("I'm not sure the Allegra is helping."), 'med:fexofenadine')).toMatchObject({ status: 'active' });
  });

  it('hedged findings are not facts ("could be related to heart disease")', () => {
    expect(facts('It could be related to some heart disease.', 'doctor')).toEqual([]);
  });
});

describe('extractFacts: allergies and reactions', () => {
  it('an allergy with its reaction in the next clause', () => {
    expect(facts("I'm allergic to penicillin, it gives me hives.")).toEqual([
      expect.objectContaining({ id: 'allergy:penicillin', status: 'active', reaction: 'hives' }),
    ]);
  });

  it('"X allergy — reaction" shorthand', () => {
    expect(byId(facts('penicillin allergy — rash'), 'allergy:penicillin')).toMatchObject({ reaction: 'rash' });
  });

  it('food and environmental allergens, and a drug class', () => {
    const m = facts('I am allergic to eggs and peanuts, and sulfa makes my throat swell.');
    expect(byId(m, 'allergy:egg')).toBeDefined();
    expect(byId(m, 'allergy:peanut')).toBeDefined();
    expect(m.some((x) => x.kind === 'medication')).toBe(false);
  });

  it('a drug the patient takes in the same sentence stays a medication', () => {
    const m = facts("I'm allergic to codeine and I take lisinopril.");
    expect(byId(m, 'allergy:codeine')).toBeDefined();
    expect(byId(m, 'med:lisinopril')).toMatchObject({ status: 'active' });
  });
});
