/**
 * Profile extraction: a typed, versioned clinical profile of a conversation
 * (medications, allergies, conditions, procedures, people, dates,
 * preferences, entities), updated per turn, with provenance and clinician
 * review.
 */

export { applyCorrection, type CorrectionOp, type CorrectionTarget } from './corrections.ts';
export { type ExtractOptions, extractFacts } from './extract.ts';
export { canonicalName, type SenseKind } from './lexicon/index.ts';
export { MAX_SOURCES } from './merge.ts';
export { type ApplyTurnResult, applyTurn } from './profile.ts';
export { profileFactsText, renderFact, renderProfile } from './render.ts';
export {
  type Allergy,
  type Condition,
  type DateFact,
  type Entity,
  emptyProfile,
  type Fact,
  type FactBase,
  type FactKind,
  type FactMention,
  type FactSource,
  type FactStatus,
  factId,
  type Medication,
  type Person,
  type Preference,
  type Procedure,
  type Profile,
  type TurnInput,
} from './types.ts';
export { type ProfileView, profileView } from './view.ts';
