import { describe, expect, it } from 'vitest';
import { applyCorrection, emptyProfile, profileFactsText, renderProfile } from '../../../src/context/profile/index.ts';
import { replay } from './helpers.ts';

describe('renderProfile', () => {
  it('renders one compact line per non-empty section', () => {
    let p = replay([
      ['patient', 'I take metformin 500 mg twice a day. I stopped taking lisinopril.'],
      ['patient', "I'm allergic to penicillin, it gives me hives."],
      ['patient', 'I have high blood pressure. I had asthma as a child. No chest pain.'],
      ['patient', 'I had my gallbladder removed. My mother has diabetes. My cardiologist is Dr. Patel.'],
      ['patient', "I'd rather have morning appointments."],
    ]);
    p = applyCorrection(p, 'confirm', { kind: 'allergy', id: 'allergy:penicillin' }, { turn: 5 });
    expect(renderProfile(p)).toBe(
      [
        'Medications: metformin 500 mg twice daily (active); lisinopril (stopped)',
        'Allergies: penicillin (hives) [confirmed]',
        'Conditions: hypertension; asthma (history)',
        'Denies: chest pain',
        'Procedures: cholecystectomy',
        'Family: mother: diabetes',
        'Care team: Dr. Patel (cardiologist)',
        'Preferences: would rather have morning appointments',
      ].join('\n'),
    );
  });

  it('is empty for an empty profile and says NKDA / no medications plainly', () => {
    expect(renderProfile(emptyProfile())).toBe('');
    const p = replay([
      ['patient', 'No known drug allergies.'],
      ['patient', "I don't take any medications."],
    ]);
    expect(renderProfile(p)).toBe('Medications: none reported\nAllergies: no known drug allergies');
  });
});

describe('profileFactsText', () => {
  it('lists normalised names, denials and family history', () => {
    const p = replay([
      ['patient', 'I take Tylenol and Lipitor. No known drug allergies.'],
      ['patient', "I have high blood pressure but I don't have diabetes. My father had a heart attack."],
    ]);
    expect(profileFactsText(p)).toEqual([
      'acetaminophen',
      'atorvastatin',
      'no known drug allergies',
      'hypertension',
      'no diabetes',
      'family history of myocardial infarction',
    ]);
  });
});
