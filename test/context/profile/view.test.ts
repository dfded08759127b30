import { describe, expect, it } from 'vitest';
import { emptyProfile, type Profile, profileView, renderProfile } from '../../../src/context/profile/index.ts';
import { countTokens } from '../../../src/context/tokens.ts';

const source = (turn: number) => [{ turn, role: 'user' }];

function bigProfile(): Profile {
  const profile = emptyProfile();
  profile.allergies.push({
    kind: 'allergy',
    id: 'allergy:penicillin',
    substance: 'penicillin',
    reaction: 'hives',
    status: 'active',
    sources: source(1),
  });
  for (let i = 0; i < 60; i++) {
    profile.entities.push({
      kind: 'entity',
      id: `entity:place-${i}`,
      text: `Place number ${i}`,
      type: 'place',
      sources: source(i + 2),
    });
  }
  for (let i = 0; i < 40; i++) {
    profile.medications.push({
      kind: 'medication',
      id: `med:drug${i}`,
      name: `drug${i}`,
      dose: '10 mg',
      status: i % 2 === 0 ? 'active' : 'stopped',
      sources: source(100 + i),
    });
  }
  return profile;
}

describe('profileView', () => {
  it('returns a profile that fits as it is', () => {
    const profile = emptyProfile();
    profile.medications.push({
      kind: 'medication',
      id: 'med:metformin',
      name: 'metformin',
      status: 'active',
      sources: source(1),
    });
    const view = profileView(profile, 1000);
    expect(view.profile).toBe(profile);
    expect(view.omitted).toBe(0);
    expect(view.text).toBe(renderProfile(profile));
  });

  it('keeps allergies and current medications first, then the most recently mentioned, within the budget', () => {
    const profile = bigProfile();
    const view = profileView(profile, 200);
    expect(countTokens(view.text)).toBeLessThanOrEqual(220);
    expect(view.profile.allergies).toHaveLength(1);
    const active = profile.medications.filter((m) => m.status === 'active');
    expect(view.profile.medications.filter((m) => m.status === 'active')).toEqual(active);
    // Entities rank last: the ones kept, if any, are the most recently mentioned.
    const kept = view.profile.entities.map((e) => e.sources[0]!.turn);
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    if (kept.length > 0) expect(Math.min(...kept)).toBeGreaterThan(2);
    const total = 1 + 60 + 40;
    const shown = view.profile.allergies.length + view.profile.medications.length + view.profile.entities.length;
    expect(view.omitted).toBe(total - shown);
    expect(view.omitted).toBeGreaterThan(0);
    // Sections keep the profile's order.
    const names = view.profile.medications.map((m) => m.name);
    expect(names).toEqual(profile.medications.map((m) => m.name).filter((n) => names.includes(n)));
  });

  it('costs the same whatever the profile holds beyond the budget', () => {
    const small = profileView(bigProfile(), 300);
    const huge = bigProfile();
    for (let i = 0; i < 900; i++) {
      huge.entities.push({ kind: 'entity', id: `entity:x-${i}`, text: `Extra ${i}`, type: 'org', sources: source(1) });
    }
    const view = profileView(huge, 300);
    expect(Math.abs(countTokens(view.text) - countTokens(small.text))).toBeLessThan(40);
  });
});
