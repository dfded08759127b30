/**
 * Gold facts of a conversation (docs/EVALUATION.md §3): lexicon terms of the
 * reference note, by the part of the note they are in, that the dialogue
 * also says.
 */
import type { GoldLexicon, Sense } from './gold-lexicon.ts';
import type { Haystack } from './normalize.ts';

/** The kinds of fact that are scored. */
export type FactKind = 'medication' | 'allergy' | 'condition';

export const FACT_KINDS: readonly FactKind[] = ['medication', 'allergy', 'condition'];

/** A fact the working context should know. */
export interface GoldFact {
  kind: FactKind;
  canonical: string;
  /** The lexicon sense its canonical name and synonyms come from. */
  sense: Sense;
  /** Normalised synonyms (§1). */
  synonyms: ReadonlySet<string>;
}

/** The reference split by role (§3). */
export interface ReferenceParts {
  /** Text whose medication and condition terms are gold. */
  medicationAndCondition: string[];
  /** Text whose drug and allergen terms are gold allergies. */
  allergy: string[];
  /** The whole reference and complaints, for precision support (§5). */
  all: string;
}

/** MTS-Dialog section names and the role of their text. */
const MTS_SECTIONS: Readonly<Record<string, 'medicationAndCondition' | 'allergy'>> = {
  MEDICATIONS: 'medicationAndCondition',
  PASTMEDICALHX: 'medicationAndCondition',
  ALLERGY: 'allergy',
};

const HEADER_LINE = /^[A-Z][A-Z /&]+:?$/;

/** The meta complaints of a full note (ACI-Bench `chief_complaint`, `secondary_complaints`). */
function complaints(meta: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (typeof meta.chief_complaint === 'string') out.push(meta.chief_complaint);
  if (Array.isArray(meta.secondary_complaints)) {
    for (const c of meta.secondary_complaints) if (typeof c === 'string') out.push(c);
  }
  return out;
}

/** Split a reference into the parts gold facts are taken from (§3). */
export function referenceParts(reference: string, meta: Record<string, unknown>): ReferenceParts {
  const extra = complaints(meta);
  const all = [reference, ...extra].join('\n');
  const header = meta.section_header;
  if (typeof header === 'string') {
    const role = MTS_SECTIONS[header.trim().toUpperCase()];
    return {
      medicationAndCondition: role === 'medicationAndCondition' ? [reference] : [],
      allergy: role === 'allergy' ? [reference] : [],
      all,
    };
  }
  const parts: ReferenceParts = { medicationAndCondition: [...extra], allergy: [], all };
  let role: 'medicationAndCondition' | 'allergy' | 'skip' = 'medicationAndCondition';
  let lines: string[] = [];
  const flush = () => {
    if (lines.length > 0 && role !== 'skip') parts[role].push(lines.join('\n'));
    lines = [];
  };
  for (const line of reference.split('\n')) {
    const trimmed = line.trim();
    if (HEADER_LINE.test(trimmed)) {
      flush();
      role = trimmed.includes('ALLERG')
        ? 'allergy'
        : trimmed.includes('FAMILY HISTORY')
          ? 'skip'
          : 'medicationAndCondition';
    }
    lines.push(line);
  }
  flush();
  return parts;
}

/** The gold fact a term gives in a part of the reference (§3 table), if any. */
function factOf(
  lexicon: GoldLexicon,
  part: 'medicationAndCondition' | 'allergy',
  senses: ReadonlyMap<Sense, string>,
): GoldFact | undefined {
  const pick = (kind: FactKind, order: readonly Sense[]): GoldFact | undefined => {
    for (const sense of order) {
      const canonical = senses.get(sense);
      if (canonical !== undefined) return { kind, canonical, sense, synonyms: lexicon.synonyms(sense, canonical) };
    }
    return undefined;
  };
  if (part === 'allergy') return pick('allergy', ['medication', 'drugClass', 'allergen']);
  return pick('medication', ['medication']) ?? pick('condition', ['condition']);
}

/**
 * The gold facts of one conversation: terms of the reference parts that the
 * dialogue also says, one per (kind, canonical name), in order of first
 * appearance.
 */
export function goldFacts(lexicon: GoldLexicon, parts: ReferenceParts, dialogue: Haystack): GoldFact[] {
  const out = new Map<string, GoldFact>();
  for (const part of ['medicationAndCondition', 'allergy'] as const) {
    for (const text of parts[part]) {
      for (const match of lexicon.find(text)) {
        const fact = factOf(lexicon, part, match.senses);
        if (fact === undefined) continue;
        const key = `${fact.kind}:${fact.canonical}`;
        if (out.has(key)) continue;
        let said = false;
        for (const s of fact.synonyms) {
          if (dialogue.hasNormalized(s)) {
            said = true;
            break;
          }
        }
        if (said) out.set(key, fact);
      }
    }
  }
  return [...out.values()];
}

/** The dialogue as one text (§3: every turn, any speaker, joined by line breaks). */
export function dialogueText(turns: readonly { text: string }[]): string {
  return turns.map((t) => t.text).join('\n');
}
