import {
  applyTurn,
  emptyProfile,
  extractFacts,
  type Fact,
  type FactMention,
  type Profile,
  type TurnInput,
} from '../../../src/context/profile/index.ts';

/** Turns as `[role, text]` pairs, numbered from 1. */
export type Script = readonly (readonly [role: string, text: string])[];

/** Replay a script through `applyTurn`, passing the recent turns as context. */
export function replay(script: Script, start: Profile = emptyProfile(), firstTurn = 1): Profile {
  let profile = start;
  const history: TurnInput[] = [];
  script.forEach(([role, text], i) => {
    const turn = { number: firstTurn + i, role, text };
    profile = applyTurn(profile, turn, { previous: history.slice(-6) }).profile;
    history.push(turn);
  });
  return profile;
}

/** Extract one patient (or other role) turn on its own. */
export function facts(text: string, role = 'patient'): FactMention[] {
  return extractFacts({ number: 1, role, text });
}

/** The mention (or fact) with this id. */
export function byId<T extends { id: string }>(items: readonly T[], id: string): T | undefined {
  return items.find((x) => x.id === id);
}

/** Every fact of a profile. */
export function allFacts(p: Profile): Fact[] {
  return [
    ...p.medications,
    ...p.allergies,
    ...p.conditions,
    ...p.procedures,
    ...p.people,
    ...p.dates,
    ...p.preferences,
    ...p.entities,
  ];
}
