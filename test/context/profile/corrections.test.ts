import { describe, expect, it } from 'vitest';
import { applyCorrection, emptyProfile } from '../../../src/context/profile/index.ts';
import { AppError } from '../../../src/errors/index.ts';
import { byId, replay } from './helpers.ts';

const base = () => replay([['patient', 'I take metformin 500 mg twice a day and lisinopril.']]);

describe('applyCorrection', () => {
  it('confirm marks the fact confirmed and bumps the version', () => {
    const p = base();
    const c = applyCorrection(p, 'confirm', { kind: 'medication', id: 'med:metformin' }, { turn: 1 });
    expect(c.version).toBe(p.version + 1);
    expect(byId(c.medications, 'med:metformin')).toMatchObject({ confirmed: true, dose: '500 mg' });
    expect(byId(p.medications, 'med:metformin')).not.toHaveProperty('confirmed');
  });

  it('finds the fact by its key field when no id is given (brand names normalised)', () => {
    const p = replay([['patient', 'I take Tylenol.']]);
    const c = applyCorrection(p, 'confirm', { kind: 'medication', name: 'Tylenol' }, { turn: 1 });
    expect(byId(c.medications, 'med:acetaminophen')).toMatchObject({ confirmed: true });
  });

  it('a correction wins over later extraction until a newer turn contradicts it', () => {
    let p = applyCorrection(
      base(),
      'correct',
      { kind: 'medication', id: 'med:metformin', dose: '1000 mg' },
      { turn: 3 },
    );
    expect(byId(p.medications, 'med:metformin')).toMatchObject({
      dose: '1000 mg',
      corrected: true,
      correctedAtTurn: 3,
    });
    // Turn 2 and 3 were said before the correction (e.g. re-extraction): they only add provenance.
    p = replay(
      [
        ['patient', 'Metformin 500 mg.'],
        ['patient', 'Yes, metformin 500 mg.'],
      ],
      p,
      2,
    );
    expect(byId(p.medications, 'med:metformin')).toMatchObject({ dose: '1000 mg', corrected: true });
    expect(byId(p.medications, 'med:metformin')?.sources.map((s) => s.turn)).toEqual([1, 2, 3]);
    // A newer turn that agrees keeps the correction; one that contradicts it wins.
    p = replay([['patient', 'I take my metformin, 1000 mg.']], p, 4);
    expect(byId(p.medications, 'med:metformin')).toMatchObject({ dose: '1000 mg', corrected: true });
    p = replay([['patient', 'They lowered my metformin to 750 mg.']], p, 5);
    expect(byId(p.medications, 'med:metformin')).toMatchObject({ dose: '750 mg' });
    expect(byId(p.medications, 'med:metformin')).not.toHaveProperty('corrected');
  });

  it('correcting the name re-keys the fact, and the old name does not come back from old turns', () => {
    let p = applyCorrection(
      base(),
      'correct',
      { kind: 'medication', id: 'med:lisinopril', name: 'Zestril' },
      { turn: 2 },
    );
    expect(p.medications.map((m) => m.id)).toEqual(['med:metformin', 'med:lisinopril']);
    p = applyCorrection(base(), 'correct', { kind: 'medication', id: 'med:lisinopril', name: 'losartan' }, { turn: 2 });
    expect(p.medications.map((m) => m.id)).toEqual(['med:metformin', 'med:losartan']);
    expect(p.retracted).toEqual({ 'med:lisinopril': 2 });
    p = replay([['patient', 'And lisinopril.']], p, 2);
    expect(byId(p.medications, 'med:lisinopril')).toBeUndefined();
  });

  it('retract removes the fact; only a newer turn re-adds it', () => {
    let p = applyCorrection(base(), 'retract', { kind: 'medication', id: 'med:lisinopril' }, { turn: 4 });
    expect(byId(p.medications, 'med:lisinopril')).toBeUndefined();
    p = replay([['patient', 'I take lisinopril.']], p, 4);
    expect(byId(p.medications, 'med:lisinopril')).toBeUndefined();
    p = replay([['patient', 'I take lisinopril.']], p, 5);
    expect(byId(p.medications, 'med:lisinopril')).toMatchObject({ sources: [{ turn: 5, role: 'patient' }] });
  });

  it('clears an optional field with null', () => {
    const p = applyCorrection(base(), 'correct', { kind: 'medication', id: 'med:metformin', dose: null }, { turn: 1 });
    expect(byId(p.medications, 'med:metformin')).not.toHaveProperty('dose');
  });

  it('throws AppError not_found for an unknown fact', () => {
    const p = base();
    expect(() => applyCorrection(p, 'confirm', { kind: 'medication', id: 'med:warfarin' }, { turn: 1 })).toThrow(
      AppError,
    );
    try {
      applyCorrection(p, 'retract', { kind: 'allergy', substance: 'penicillin' }, { turn: 1 });
    } catch (err) {
      expect(err).toMatchObject({ code: 'not_found', status: 404 });
    }
  });

  it.each([
    ['bad op', 'delete', { kind: 'medication', id: 'med:metformin' }, { turn: 1 }],
    ['bad kind', 'confirm', { kind: 'drug', id: 'med:metformin' }, { turn: 1 }],
    ['no fact', 'confirm', null, { turn: 1 }],
    ['no id or key', 'confirm', { kind: 'medication' }, { turn: 1 }],
    ['bad at', 'confirm', { kind: 'medication', id: 'med:metformin' }, { turn: -1 }],
    ['unknown field', 'correct', { kind: 'medication', id: 'med:metformin', colour: 'red' }, { turn: 1 }],
    ['wrong type', 'correct', { kind: 'medication', id: 'med:metformin', dose: 500 }, { turn: 1 }],
    ['bad status', 'correct', { kind: 'allergy', id: 'allergy:drug', status: 'stopped' }, { turn: 1 }],
    ['nothing to correct', 'correct', { kind: 'medication', id: 'med:metformin' }, { turn: 1 }],
  ])('throws TypeError for a malformed op (%s)', (_name, op, fact, at) => {
    expect(() => applyCorrection(base(), op as never, fact as never, at as never)).toThrow(TypeError);
  });

  it('works on every kind, e.g. a family member', () => {
    const p = replay([['patient', 'My mother has diabetes.']]);
    const c = applyCorrection(
      p,
      'correct',
      { kind: 'person', id: 'person:mother', conditions: ['type 2 diabetes'] },
      { turn: 1 },
    );
    expect(byId(c.people, 'person:mother')).toMatchObject({ conditions: ['type 2 diabetes'], corrected: true });
    expect(() =>
      applyCorrection(emptyProfile(), 'confirm', { kind: 'person', id: 'person:mother' }, { turn: 0 }),
    ).toThrow(AppError);
  });
});
