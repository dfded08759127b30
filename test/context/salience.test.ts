import { describe, expect, it } from 'vitest';
import { emptyProfile, type Profile } from '../../src/context/profile/index.ts';
import { clinicalSalience, type KnownFacts, knownFactsOf, residualSalience } from '../../src/context/salience.ts';

const known = (facts: Partial<Record<keyof KnownFacts, string[]>>): KnownFacts => ({
  medications: new Set(facts.medications ?? []),
  allergies: new Set(facts.allergies ?? []),
  conditions: new Set(facts.conditions ?? []),
  procedures: new Set(facts.procedures ?? []),
  people: new Set(facts.people ?? []),
});

describe('residualSalience', () => {
  it('scores 0 for a sentence the profile fully captures, dose and frequency included', () => {
    const facts = known({ medications: ['metformin'], conditions: ['diabetes'] });
    expect(residualSalience('I take metformin 500 mg twice a day for my diabetes.', facts)).toBe(0);
  });

  it('reads names the way the extractor does: a brand or lay term is captured by its canonical name', () => {
    const facts = known({ medications: ['acetaminophen'], conditions: ['hypertension'] });
    expect(residualSalience('I take Tylenol for the high blood pressure headaches.', facts)).toBeLessThan(
      clinicalSalience('I take Tylenol for the high blood pressure headaches.'),
    );
    expect(residualSalience('Tylenol twice a day.', facts)).toBe(0);
  });

  it('keeps what the profile lacks, and ranks clinical terms it does not carry above generic content', () => {
    const facts = known({ conditions: ['diabetes'] });
    const novel = residualSalience('Any nausea, vomiting or chest pain? No.', facts);
    expect(novel).toBeGreaterThan(clinicalSalience('Any nausea, vomiting or chest pain? No.'));
    expect(novel).toBeGreaterThan(residualSalience('My blood sugar was 140 this morning.', facts));
    expect(residualSalience('No nausea, but I get dizzy every morning.', facts)).toBeGreaterThan(0.25);
  });

  it('keeps dose and frequency when a medication named with them is not in the profile', () => {
    const facts = known({ medications: ['metformin'] });
    expect(residualSalience('Metformin and lisinopril 20 mg once daily.', facts)).toBeGreaterThan(4);
  });

  it('a drug in a sentence about allergy is captured only by a profile allergy, not by the medication list', () => {
    const s = 'I am allergic to amoxicillin.';
    expect(residualSalience(s, known({ medications: ['amoxicillin'] }))).toBeGreaterThan(2);
    expect(residualSalience(s, known({ allergies: ['amoxicillin'] }))).toBeLessThan(residualSalience(s, known({})));
  });

  it('a relative and their condition are captured when the profile holds them', () => {
    const facts = known({ conditions: ['breast cancer'], people: ['mother'] });
    expect(residualSalience('My mother had breast cancer.', facts)).toBe(0);
    expect(residualSalience('My mother had breast cancer.', known({}))).toBeGreaterThan(2);
  });

  it('with nothing known, is the plain salience plus the bonus for the clinical terms it names', () => {
    const s = 'I stopped the lisinopril in March because of a cough.';
    expect(residualSalience(s, known({}))).toBe(clinicalSalience(s) + 4);
    expect(residualSalience('The weather was nice on Sunday.', known({}))).toBe(
      clinicalSalience('The weather was nice on Sunday.'),
    );
  });
});

describe('knownFactsOf', () => {
  it('collects names by section, with allergy reactions and relatives’ conditions', () => {
    const profile: Profile = {
      ...emptyProfile(),
      medications: [{ kind: 'medication', id: 'med:metformin', name: 'metformin', status: 'active', sources: [] }],
      allergies: [
        {
          kind: 'allergy',
          id: 'allergy:penicillin',
          substance: 'penicillin',
          reaction: 'hives',
          status: 'active',
          sources: [],
        },
      ],
      conditions: [
        { kind: 'condition', id: 'condition:chest-pain', name: 'chest pain', status: 'negated', sources: [] },
      ],
      people: [
        {
          kind: 'person',
          id: 'person:mother',
          relation: 'mother',
          conditions: ['breast cancer', 'no diabetes'],
          sources: [],
        },
      ],
    };
    const facts = knownFactsOf(profile);
    expect([...facts.medications]).toEqual(['metformin']);
    expect([...facts.allergies]).toEqual(['penicillin', 'hives']);
    expect([...facts.conditions]).toEqual(['chest pain', 'breast cancer', 'diabetes']);
    expect([...facts.people]).toEqual(['mother']);
  });
});
