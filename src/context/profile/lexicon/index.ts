/**
 * The assembled clinical lexicon: one trie of terms (each phrase may carry
 * several senses — "hives" is a reaction and a condition) and one trie of
 * cue phrases. Built once, on first use.
 */
import { PhraseTrie } from '../matcher.ts';
import { phraseKey } from '../text.ts';
import { ALLERGENS, REACTIONS } from './allergens.ts';
import { CONDITIONS } from './conditions.ts';
import { DRUG_CLASSES } from './drug-classes.ts';
import { MEDICATIONS } from './medications.ts';
import { CUES, type CueType } from './patterns.ts';
import { CLINICIAN_ROLES, FAMILY_RELATIONS } from './people.ts';
import { PROCEDURES } from './procedures.ts';
import type { LexiconEntry } from './table.ts';

/** What a lexicon phrase can mean. */
export type SenseKind =
  | 'medication'
  | 'drugClass'
  | 'condition'
  | 'procedure'
  | 'allergen'
  | 'reaction'
  | 'family'
  | 'clinician'
  | 'ignore';

/** The canonical name of a phrase under each sense it has. */
export type Senses = Partial<Record<SenseKind, string>>;

/** Phrases that would otherwise match a lexicon word in the wrong sense. */
const IGNORED = [
  'hearing aid',
  'first aid',
  'band aid',
  'oxygen saturation',
  'oxygen level',
  'oxygen sat',
  'o2 sat',
  'o2 saturation',
  'blood pressure cuff',
  'sugar free',
  'pain scale',
  'cold turkey',
  'smoke detector',
  'iron out',
  'milk of magnesia',
  'cancer screening',
  'echo chamber',
  'second hand smoke',
  'baby boy',
  'baby girl',
];

const SOURCES: ReadonlyArray<readonly [SenseKind, readonly LexiconEntry[]]> = [
  ['medication', MEDICATIONS],
  ['drugClass', DRUG_CLASSES],
  ['condition', CONDITIONS],
  ['procedure', PROCEDURES],
  ['allergen', ALLERGENS],
  ['reaction', REACTIONS],
  ['family', FAMILY_RELATIONS],
  ['clinician', CLINICIAN_ROLES],
];

/** Generate spelling variants: "c-section" ↔ "c section" ↔ "csection". */
function variants(alias: string): string[] {
  const out = [alias];
  if (alias.includes('-')) out.push(alias.replace(/-/g, ' '), alias.replace(/-/g, ''));
  if (alias.includes('/') && !alias.includes(' ')) out.push(alias.replace(/\//g, ' '));
  return out;
}

let terms: PhraseTrie<Senses> | undefined;
let cues: PhraseTrie<readonly CueType[]> | undefined;
let canonicalSets: Map<SenseKind, Map<string, string>> | undefined;

function build(): void {
  const t = new PhraseTrie<Senses>((a, b) => ({ ...b, ...a }));
  const sets = new Map<SenseKind, Map<string, string>>();
  for (const [kind, entries] of SOURCES) {
    const byAlias = new Map<string, string>();
    for (const e of entries) {
      for (const alias of e.aliases) {
        for (const v of variants(alias)) {
          t.add(phraseKey(v), { [kind]: e.canonical });
          byAlias.set(phraseKey(v).join(' '), e.canonical);
        }
      }
    }
    sets.set(kind, byAlias);
  }
  // Ignored phrases only win where they are longer than a real term.
  for (const phrase of IGNORED) t.add(phraseKey(phrase), { ignore: phrase });
  const c = new PhraseTrie<readonly CueType[]>((a, b) => [...new Set([...a, ...b])]);
  for (const [type, phrases] of Object.entries(CUES) as [CueType, readonly string[]][]) {
    for (const p of phrases) c.add(phraseKey(p), [type]);
  }
  terms = t;
  cues = c;
  canonicalSets = sets;
}

/** The term trie (medications, classes, conditions, procedures, allergens, reactions, relations). */
export function termTrie(): PhraseTrie<Senses> {
  if (terms === undefined) build();
  return terms as PhraseTrie<Senses>;
}

/** The cue trie (negation, change, history, allergy, family cues). */
export function cueTrie(): PhraseTrie<readonly CueType[]> {
  if (cues === undefined) build();
  return cues as PhraseTrie<readonly CueType[]>;
}

/**
 * The canonical name of a term under one sense, or undefined when the
 * lexicon does not know it. Use it to normalise reference names the same
 * way the extractor does (e.g. for evaluation matching).
 *
 * @example
 * canonicalName('medication', 'Tylenol') // → 'acetaminophen'
 * canonicalName('condition', 'high blood pressure') // → 'hypertension'
 */
export function canonicalName(kind: SenseKind, text: string): string | undefined {
  if (canonicalSets === undefined) build();
  return canonicalSets?.get(kind)?.get(phraseKey(text).join(' '));
}

/** Whether a canonical name is a medication or drug class (a drug allergen). */
export function isDrugName(name: string): boolean {
  return canonicalName('medication', name) !== undefined || canonicalName('drugClass', name) !== undefined;
}
