/**
 * Updating a profile with one turn: extract the turn's fact mentions and
 * merge them. Profiles are immutable; a changed profile is a new object with
 * `version + 1`.
 */
import { type ExtractOptions, extractFacts } from './extract.ts';
import { type Draft, mergeMention } from './merge.ts';
import type { Profile, TurnInput } from './types.ts';

/** The result of `applyTurn`. */
export interface ApplyTurnResult {
  /** The updated profile (the same object when nothing changed). */
  profile: Profile;
  /** Whether any fact was added or changed (including a new source). */
  changed: boolean;
  /** How many fact mentions the turn yielded. */
  mentions: number;
}

/**
 * Apply one turn to a profile. Pass the previous turn in `options.previous`
 * so that short answers ("No.") are read against the question they answer.
 *
 * @example
 * let profile = emptyProfile();
 * ({ profile } = applyTurn(profile, { number: 1, role: 'doctor', text: 'Any known drug allergies?' }));
 * ({ profile } = applyTurn(profile, { number: 2, role: 'patient', text: 'No.' },
 *   { previous: { number: 1, role: 'doctor', text: 'Any known drug allergies?' } }));
 * // profile.allergies → [{ id: 'allergy:drug', substance: 'drug', status: 'negated', ... }]
 */
export function applyTurn(profile: Profile, turn: TurnInput, options: ExtractOptions = {}): ApplyTurnResult {
  assertProfile(profile);
  const mentions = extractFacts(turn, options);
  if (mentions.length === 0) return { profile, changed: false, mentions: 0 };
  const draft: Draft = { ...profile };
  let changed = false;
  for (const mention of mentions) if (mergeMention(draft, mention)) changed = true;
  if (!changed) return { profile, changed: false, mentions: mentions.length };
  return { profile: { ...draft, version: profile.version + 1 }, changed: true, mentions: mentions.length };
}

const SECTIONS = [
  'medications',
  'allergies',
  'conditions',
  'procedures',
  'people',
  'dates',
  'preferences',
  'entities',
] as const;

/** Throw `TypeError` unless `profile` has the shape of a `Profile`. */
export function assertProfile(profile: unknown): asserts profile is Profile {
  const p = profile as Partial<Profile> | null;
  if (typeof p !== 'object' || p === null) throw new TypeError('profile must be an object');
  if (typeof p.version !== 'number' || !Number.isInteger(p.version) || p.version < 0)
    throw new TypeError('profile.version must be a non-negative integer');
  for (const s of SECTIONS) if (!Array.isArray(p[s])) throw new TypeError(`profile.${s} must be an array`);
}
