/**
 * Scoring one conversation's final working context: fact recall (§4) and
 * profile precision (§5) of docs/EVALUATION.md.
 */
import type { FactKind, GoldFact } from './gold.ts';
import type { GoldLexicon } from './gold-lexicon.ts';
import { Haystack, normalize } from './normalize.ts';

/** The parts of a profile that are scored (as `GET …/context` returns them). */
export interface ProfileView {
  medications: readonly { name: string; status?: string }[];
  allergies: readonly { substance: string; status?: string }[];
  conditions: readonly { name: string; status?: string }[];
}

/** The parts of a working context that are scored. */
export interface ContextView {
  profile: ProfileView;
  summary: string;
  recent: readonly { content: string }[];
  retrieved: readonly { content: string }[];
}

/** Whether one gold fact was recalled. */
export interface RecallItem {
  kind: FactKind;
  canonical: string;
  /** In a profile fact name of its kind or in the summary: the scored recall (§4). */
  recalled: boolean;
  /** Recalled, or in the text of the recent or retrieved turns (diagnostic). */
  inContext: boolean;
}

/** Profile names of one kind, any status. */
export function profileNames(profile: ProfileView, kind: FactKind): string[] {
  switch (kind) {
    case 'medication':
      return profile.medications.map((m) => m.name);
    case 'allergy':
      return profile.allergies.map((a) => a.substance);
    case 'condition':
      return profile.conditions.map((c) => c.name);
  }
}

const hasAnyOf = (hay: Haystack, synonyms: ReadonlySet<string>) => {
  for (const s of synonyms) if (hay.hasNormalized(s)) return true;
  return false;
};

/** Recall of each gold fact in a working context (§4). */
export function recallOf(gold: readonly GoldFact[], context: ContextView): RecallItem[] {
  const names = new Map<FactKind, Haystack[]>();
  const summary = new Haystack(context.summary);
  let turns: Haystack | undefined;
  return gold.map((fact) => {
    let hays = names.get(fact.kind);
    if (hays === undefined) {
      hays = profileNames(context.profile, fact.kind).map((n) => new Haystack(n));
      names.set(fact.kind, hays);
    }
    const recalled = hays.some((h) => hasAnyOf(h, fact.synonyms)) || hasAnyOf(summary, fact.synonyms);
    turns ??= new Haystack([...context.recent, ...context.retrieved].map((t) => t.content).join('\n'));
    return {
      kind: fact.kind,
      canonical: fact.canonical,
      recalled,
      inContext: recalled || hasAnyOf(turns, fact.synonyms),
    };
  });
}

/** Whether one extracted fact is supported. */
export interface PrecisionItem {
  kind: FactKind;
  name: string;
  status: string;
  /** By the reference text or the dialogue: the scored precision (§5). */
  supported: boolean;
  /** By the reference text alone (diagnostic). */
  noteSupported: boolean;
}

/** Precision items of a profile and the number of "none" markers left out (§5). */
export interface PrecisionResult {
  items: PrecisionItem[];
  markers: number;
}

/** Whether a profile fact is a "no medications" / "no known drug allergies" marker rather than a substance. */
export function isMarker(kind: FactKind, name: string): boolean {
  const n = normalize(name);
  return (kind === 'medication' && n === 'none') || (kind === 'allergy' && n === 'drug');
}

/** Support of each extracted medication, allergy and condition (§5). */
export function precisionOf(
  lexicon: GoldLexicon,
  profile: ProfileView,
  reference: Haystack,
  dialogue: Haystack,
): PrecisionResult {
  const items: PrecisionItem[] = [];
  let markers = 0;
  const facts: [FactKind, string, string | undefined][] = [
    ...profile.medications.map((m): [FactKind, string, string | undefined] => ['medication', m.name, m.status]),
    ...profile.allergies.map((a): [FactKind, string, string | undefined] => ['allergy', a.substance, a.status]),
    ...profile.conditions.map((c): [FactKind, string, string | undefined] => ['condition', c.name, c.status]),
  ];
  for (const [kind, name, status] of facts) {
    if (isMarker(kind, name)) {
      markers++;
      continue;
    }
    const synonyms = lexicon.synonymsOfName(name);
    const noteSupported = hasAnyOf(reference, synonyms);
    items.push({
      kind,
      name,
      status: status ?? 'active',
      supported: noteSupported || hasAnyOf(dialogue, synonyms),
      noteSupported,
    });
  }
  return { items, markers };
}
