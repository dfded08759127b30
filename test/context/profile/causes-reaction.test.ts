import { describe, expect, it } from 'vitest';
import { applyTurn, emptyProfile } from '../../../src/context/profile/index.ts';

const profileOf = (text: string) => applyTurn(emptyProfile(), { number: 1, role: 'user', text }).profile;

describe('a drug that causes a named reaction is an allergy, not a medication or a condition', () => {
  it.each([
    ['I take metformin 500 mg twice a day, and penicillin gives me hives.', 'penicillin', 'hives'],
    ['Sulfa drugs make me break out in a rash.', 'sulfa drugs', 'rash'],
  ])('%s', (text, substance, reaction) => {
    const profile = profileOf(text);
    const allergy = profile.allergies.find((a) => a.substance === substance);
    expect(allergy?.reaction).toBe(reaction);
    expect(profile.medications.map((m) => m.name)).not.toContain(substance);
    expect(profile.conditions.map((c) => c.name)).not.toContain(reaction);
  });

  it('keeps the medication that is only taken', () => {
    expect(profileOf('I take metformin 500 mg twice a day, and penicillin gives me hives.').medications).toMatchObject([
      { name: 'metformin', dose: '500 mg', frequency: 'twice daily', status: 'active' },
    ]);
  });
});
