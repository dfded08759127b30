/**
 * The working context's view of a profile: the facts that matter most for the
 * next turn, within a token budget, so a conversation that has mentioned
 * hundreds of medications over 10,000 turns still sends the model (and the
 * client) a profile block of bounded size. The full profile stays in the
 * state, behind `GET …/profile`.
 */
import { countTokens } from '../tokens.ts';
import { renderFact, renderProfile } from './render.ts';
import { type Fact, type Profile, SECTION_OF } from './types.ts';

export interface ProfileView {
  /** The same shape as a profile, holding only the facts that fit; each section keeps the profile's order. */
  profile: Profile;
  /** The view rendered for the prompt's profile block. */
  text: string;
  /** Facts left out for lack of budget. */
  omitted: number;
}

/**
 * Lower ranks are kept first: what can hurt the patient if forgotten
 * (allergies, what they take and have now), then their history and denials,
 * then the people around them and the rest.
 */
function rank(f: Fact): number {
  switch (f.kind) {
    case 'allergy':
      return 0;
    case 'medication':
      return f.status === 'active' ? 1 : 4;
    case 'condition':
      return f.status === 'active' ? 2 : 5;
    case 'procedure':
      return 3;
    case 'person':
      return 6;
    case 'preference':
      return 7;
    case 'date':
      return 8;
    case 'entity':
      return 9;
  }
}

/** The turn a fact was last mentioned in. */
function lastMentioned(f: Fact): number {
  let last = 0;
  for (const source of f.sources) if (source.turn > last) last = source.turn;
  return last;
}

/** A fact's tokens plus its separator ("; "). Fact texts recur from state to state, so the counts are mostly cache hits. */
const factTokens = (text: string) => countTokens(text) + 1;

/** Characters of section labels ("Medications: ") and line breaks, charged once per section used. */
const SECTION_TOKENS = 4;

/**
 * Choose the facts that fit `budgetTokens`, most important kind first and,
 * within a kind, the most recently mentioned (or reviewed by a clinician)
 * first. A profile that fits whole is returned as it is.
 */
export function profileView(profile: Profile, budgetTokens: number): ProfileView {
  const facts: Fact[] = Object.values(SECTION_OF).flatMap((section) => profile[section] as Fact[]);
  const costs = new Map<Fact, number>(facts.map((f) => [f, factTokens(renderFact(f))]));
  const sections = new Set(facts.map((f) => f.kind)).size;
  let total = sections * SECTION_TOKENS;
  for (const cost of costs.values()) total += cost;
  if (total <= budgetTokens) return { profile, text: renderProfile(profile), omitted: 0 };

  const ordered = [...facts].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      Number(Boolean(b.corrected || b.confirmed)) - Number(Boolean(a.corrected || a.confirmed)) ||
      lastMentioned(b) - lastMentioned(a),
  );
  const kept = new Set<Fact>();
  const kinds = new Set<string>();
  let used = 0;
  for (const fact of ordered) {
    const cost = costs.get(fact)! + (kinds.has(fact.kind) ? 0 : SECTION_TOKENS);
    if (used + cost > budgetTokens) continue; // a smaller fact further down may still fit
    used += cost;
    kept.add(fact);
    kinds.add(fact.kind);
  }
  const view: Profile = { ...profile };
  for (const section of Object.values(SECTION_OF)) {
    (view[section] as Fact[]) = (profile[section] as Fact[]).filter((f) => kept.has(f));
  }
  return { profile: view, text: renderProfile(view), omitted: facts.length - kept.size };
}
