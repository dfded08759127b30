import { describe, expect, it } from 'vitest';
import { applyTurn, emptyProfile, MAX_SOURCES, type Profile } from '../../../src/context/profile/index.ts';
import { byId, replay } from './helpers.ts';

describe('applyTurn', () => {
  it('is immutable and bumps the version only when something changed', () => {
    const p0 = emptyProfile();
    const r1 = applyTurn(p0, { number: 1, role: 'patient', text: 'I take metformin.' });
    expect(r1).toMatchObject({ changed: true, mentions: 1 });
    expect(r1.profile.version).toBe(1);
    expect(p0).toEqual(emptyProfile());
    const r2 = applyTurn(r1.profile, { number: 2, role: 'patient', text: 'Thanks, see you.' });
    expect(r2).toEqual({ profile: r1.profile, changed: false, mentions: 0 });
    const frozen = structuredClone(r1.profile);
    applyTurn(r1.profile, { number: 3, role: 'patient', text: 'I stopped taking metformin.' });
    expect(r1.profile).toEqual(frozen);
  });

  it('merges the same fact across turns, adding a source each time', () => {
    const p = replay([
      ['patient', 'I take metformin 500 mg.'],
      ['doctor', 'Okay.'],
      ['doctor', 'Are you taking metformin twice a day?'],
      ['patient', 'Right, metformin twice a day.'],
    ]);
    expect(p.medications).toEqual([
      expect.objectContaining({
        id: 'med:metformin',
        dose: '500 mg',
        frequency: 'twice daily',
        sources: [
          { turn: 1, role: 'patient' },
          { turn: 4, role: 'patient' },
        ],
      }),
    ]);
  });

  it('a later "stopped" stops a medication and "back on" restarts it', () => {
    let p = replay([
      ['patient', 'I take metformin and lisinopril.'],
      ['patient', 'I stopped taking metformin last month.'],
    ]);
    expect(byId(p.medications, 'med:metformin')).toMatchObject({ status: 'stopped' });
    expect(byId(p.medications, 'med:lisinopril')).toMatchObject({ status: 'active' });
    p = replay([['patient', "I'm back on metformin."]], p, 3);
    expect(byId(p.medications, 'med:metformin')).toMatchObject({ status: 'active' });
  });

  it('a plain later mention does not undo a stop; a new dose updates the dose', () => {
    const p = replay([
      ['patient', 'I stopped taking lisinopril.'],
      ['patient', 'Lisinopril gave me a cough.'],
      ['patient', 'I take 1000 mg of metformin.'],
      ['patient', 'Now metformin 500 mg.'],
    ]);
    expect(byId(p.medications, 'med:lisinopril')).toMatchObject({ status: 'stopped' });
    expect(byId(p.medications, 'med:metformin')).toMatchObject({ dose: '500 mg' });
  });

  it('"no medications" gives way to a medication, and is not added beside one', () => {
    let p = replay([
      ['doctor', 'Are you taking any medications?'],
      ['patient', 'No.'],
    ]);
    expect(p.medications.map((m) => m.id)).toEqual(['med:none']);
    p = replay([['patient', 'Oh wait, I do take aspirin.']], p, 3);
    expect(p.medications.map((m) => m.id)).toEqual(['med:aspirin']);
    p = replay([['patient', "I'm not taking any medications."]], p, 4);
    expect(p.medications.map((m) => m.id)).toEqual(['med:aspirin']);
  });

  it('NKDA gives way to a drug allergy', () => {
    const p = replay([
      ['patient', 'No known drug allergies.'],
      ['patient', 'Actually I am allergic to penicillin, I get a rash.'],
    ]);
    expect(p.allergies).toEqual([expect.objectContaining({ id: 'allergy:penicillin', reaction: 'rash' })]);
  });

  it("family history stays on the relative while the patient's own conditions are the patient's", () => {
    const p = replay([
      ['patient', 'My mother has diabetes.'],
      ['patient', 'I have high blood pressure.'],
    ]);
    expect(p.conditions.map((c) => c.name)).toEqual(['hypertension']);
    expect(byId(p.people, 'person:mother')).toMatchObject({ conditions: ['diabetes'] });
  });

  it(`keeps at most ${MAX_SOURCES} sources per fact: the first and the most recent`, () => {
    let p: Profile = emptyProfile();
    for (let n = 1; n <= 50; n++) p = applyTurn(p, { number: n, role: 'patient', text: 'My asthma is fine.' }).profile;
    const sources = byId(p.conditions, 'condition:asthma')?.sources ?? [];
    expect(sources).toHaveLength(MAX_SOURCES);
    expect(sources[0]?.turn).toBe(1);
    expect(sources.at(-1)?.turn).toBe(50);
  });

  it('rejects a malformed profile or turn with TypeError', () => {
    expect(() => applyTurn({} as Profile, { number: 1, role: 'patient', text: 'x' })).toThrow(TypeError);
    expect(() => applyTurn(emptyProfile(), { number: 1.5, role: 'patient', text: 'x' })).toThrow(TypeError);
  });
});
