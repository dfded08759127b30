import { describe, expect, it } from 'vitest';
import { extractFacts } from '../../../src/context/profile/index.ts';
import { byId, facts } from './helpers.ts';

describe('extractFacts: family members and clinicians', () => {
  it("gives a relative's condition to the relative, not the patient", () => {
    const m = facts('My mother has diabetes and my father died of a heart attack.');
    expect(m.some((x) => x.kind === 'condition')).toBe(false);
    expect(byId(m, 'person:mother')).toMatchObject({ relation: 'mother', conditions: ['diabetes'] });
    const father = m.filter((x) => x.id === 'person:father');
    expect(father).toContainEqual(expect.objectContaining({ conditions: ['myocardial infarction'], deceased: true }));
    expect(m.filter((x) => x.id === 'person:mother').every((x) => x.kind === 'person' && !x.deceased)).toBe(true);
  });

  it('"family history of X" belongs to a Person with relation "family"', () => {
    expect(facts('There is a family history of breast cancer.')).toEqual([
      expect.objectContaining({ id: 'person:family', relation: 'family', conditions: ['breast cancer'] }),
    ]);
  });

  it('shares a condition among chained relatives ("my brother and sister both have diabetes")', () => {
    const m = facts('And my brother and sister both have diabetes.');
    expect(byId(m, 'person:brother')).toMatchObject({ conditions: ['diabetes'] });
    expect(byId(m, 'person:sister')).toMatchObject({ conditions: ['diabetes'] });
  });

  it('keeps the patient\'s own condition when "I" comes between ("my wife says I have sleep apnea")', () => {
    const m = facts('My wife says I have sleep apnea.');
    expect(byId(m, 'condition:sleep-apnea')).toMatchObject({ status: 'active' });
    expect(byId(m, 'person:wife')).toMatchObject({ conditions: [] });
  });

  it('a denied family condition is recorded as "no X" on the relative', () => {
    expect(byId(facts('No family history of cancer.'), 'person:family')).toMatchObject({ conditions: ['no cancer'] });
  });

  it('names clinicians: "Dr. Kumar", "my cardiologist", and both together', () => {
    expect(byId(facts('I saw Dr. Kumar last month.'), 'person:dr-kumar')).toMatchObject({
      name: 'Dr. Kumar',
      relation: 'physician',
    });
    expect(byId(facts('My cardiologist wants me to walk more.'), 'person:cardiologist')).toBeDefined();
    expect(byId(facts('Dr. Patel, my cardiologist, is great.'), 'person:dr-patel')).toMatchObject({
      relation: 'cardiologist',
    });
    expect(byId(facts('i know that you told dr. gutierrez .', 'doctor'), 'person:dr-gutierrez')).toBeDefined();
  });

  it('"doctor" followed by an ordinary word is not a name', () => {
    expect(facts('The doctor said I should rest.').some((x) => x.kind === 'person')).toBe(false);
  });
});

describe('extractFacts: questions and speakers', () => {
  it.each([
    'Do you have any allergies?',
    'Are you taking aspirin?',
    'Any history of diabetes or high blood pressure?',
    'do you have any chest pain ?',
  ])('a question states no fact: %s', (text) => {
    expect(extractFacts({ number: 1, role: 'doctor', text })).toEqual([]);
  });

  it("a clinician's statement about the patient counts", () => {
    const m = facts("You're on lisinopril for your hypertension.", 'doctor');
    expect(byId(m, 'med:lisinopril')).toMatchObject({ status: 'active', source: { role: 'doctor' } });
    expect(byId(m, 'condition:hypertension')).toBeDefined();
  });

  it('a wh-question presupposes what it names with "your"/"the"', () => {
    const m = facts('How are you doing with the synthroid? And your asthma?', 'doctor');
    expect(byId(m, 'med:levothyroxine')).toBeDefined();
    expect(byId(m, 'condition:asthma')).toBeDefined();
  });

  it('a tag question ("..., correct?") asserts what it says', () => {
    const m = facts('You had asthma and a heart attack, correct?', 'doctor');
    expect(byId(m, 'condition:asthma')).toMatchObject({ status: 'historical' });
    expect(byId(m, 'condition:myocardial-infarction')).toBeDefined();
  });

  it('the condition a drug is for is not negated with the drug ("never took anything for diabetes")', () => {
    expect(byId(facts('I never took anything for diabetes.'), 'condition:diabetes')).toMatchObject({
      status: 'active',
    });
  });

  it('assistant and system turns state no facts', () => {
    expect(extractFacts({ number: 1, role: 'assistant', text: 'Metformin can cause nausea.' })).toEqual([]);
    expect(extractFacts({ number: 1, role: 'system', text: 'The patient takes metformin.' })).toEqual([]);
  });

  it('malformed turns throw TypeError', () => {
    expect(() => extractFacts({ number: -1, role: 'patient', text: 'x' })).toThrow(TypeError);
    expect(() => extractFacts({ number: 1, role: '', text: 'x' })).toThrow(TypeError);
    expect(() => extractFacts(null as never)).toThrow(TypeError);
    expect(() => extractFacts({ number: 1, role: 'patient', text: 'x', at: 'soon' })).toThrow(TypeError);
  });
});

describe('extractFacts: lower-cased tokenised transcripts (ACI-Bench style)', () => {
  it('reads " , "-separated text with split contractions', () => {
    const m = facts("i'm taking metformin , 500 mg , twice a day . i do n't have asthma though .");
    expect(byId(m, 'med:metformin')).toMatchObject({ dose: '500 mg', frequency: 'twice daily', status: 'active' });
    expect(byId(m, 'condition:asthma')).toMatchObject({ status: 'negated' });
  });

  it('reads spoken doses and stops in lower case', () => {
    const m = facts('we have you on norvasc five milligrams once a day and i stopped the lasix .', 'doctor');
    expect(byId(m, 'med:amlodipine')).toMatchObject({ dose: '5 mg', frequency: 'once daily', status: 'active' });
    expect(byId(m, 'med:furosemide')).toMatchObject({ status: 'stopped' });
  });

  it('treats an unpunctuated clause that opens like a question as a question', () => {
    const m = facts(
      "so it's been a couple of weeks are you coughing up anything any fevers with this at all",
      'doctor',
    );
    expect(m.some((x) => x.kind === 'condition')).toBe(false);
  });

  it('finds family history in lower case', () => {
    expect(byId(facts('my dad had a stroke , and my mom has copd .'), 'person:mother')).toMatchObject({
      conditions: ['copd'],
    });
  });
});

describe('extractFacts: preferences, values, dates and entities', () => {
  it('stated preferences (patient side only)', () => {
    const m = facts("Please call me Bob. I'd rather have morning appointments. I don't want any more steroid shots.");
    const prefs = m.filter((x) => x.kind === 'preference').map((x) => (x.kind === 'preference' ? x.text : ''));
    expect(prefs).toEqual([
      'call me bob',
      'would rather have morning appointments',
      'does not want any more steroid shots',
    ]);
    expect(facts('I would prefer you take it with food.', 'doctor').some((x) => x.kind === 'preference')).toBe(false);
  });

  it('measured values, keyed by what they measure', () => {
    const m = facts('My blood pressure was 140/90 and my a1c was 7.2.');
    expect(byId(m, 'entity:value-blood-pressure')).toMatchObject({ text: 'blood pressure 140/90', type: 'value' });
    expect(byId(m, 'entity:value-a1c')).toMatchObject({ text: 'a1c 7.2' });
  });

  it('dates via compromise-dates, with an ISO date when the year is given, and the procedure dated', () => {
    const m = facts('I had my appendix out in 2015 at Boston General Hospital.');
    expect(byId(m, 'procedure:appendectomy')).toMatchObject({ date: '2015-01-01' });
    expect(m.find((x) => x.kind === 'date')).toMatchObject({
      text: 'in 2015',
      iso: '2015-01-01',
      context: 'appendectomy',
    });
    expect(m.find((x) => x.kind === 'entity' && x.type === 'organization')).toMatchObject({
      text: 'Boston General Hospital',
    });
  });

  it('places and organizations via compromise, and "I prefer ..."', () => {
    const m = facts('I moved here from Boston last year and I go to the Walgreens pharmacy. I prefer text messages.');
    expect(byId(m, 'entity:place-boston')).toMatchObject({ text: 'Boston', type: 'place' });
    expect(byId(m, 'entity:organization-walgreens')).toMatchObject({ type: 'organization' });
    expect(m.find((x) => x.kind === 'preference')).toMatchObject({ text: 'prefers text messages' });
  });

  it('relative dates resolve only against the turn time', () => {
    const without = extractFacts({ number: 1, role: 'patient', text: 'I stopped metformin three weeks ago.' });
    expect(without.find((x) => x.kind === 'date')).not.toHaveProperty('iso');
    const withAt = extractFacts({
      number: 1,
      role: 'patient',
      text: 'I stopped metformin three weeks ago.',
      at: '2024-05-22T10:00:00Z',
    });
    expect(withAt.find((x) => x.kind === 'date')).toMatchObject({ iso: '2024-05-01', context: 'metformin' });
  });
});
