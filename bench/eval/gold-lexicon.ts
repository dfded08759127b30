/**
 * The frozen gold lexicon (docs/EVALUATION.md §1): loading with a hash
 * check, leftmost-longest term finding, and synonym look-ups.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BREAK, normalize, words } from './normalize.ts';

/** The snapshot's file name, next to this module. */
export const GOLD_LEXICON_FILE = 'gold-lexicon.txt';

/** SHA-256 of the snapshot the committed results were scored with; a changed file is refused. */
export const GOLD_LEXICON_SHA256 = 'b0fad8f27480868180b550549deb1a9a4a2336ccb2e169a1c7a9c247320955c2';

/** What a snapshot phrase can mean. */
export type Sense = 'medication' | 'drugClass' | 'condition' | 'allergen' | 'reaction' | 'procedure' | 'ignore';

const SENSES: readonly Sense[] = [
  'medication',
  'drugClass',
  'condition',
  'allergen',
  'reaction',
  'procedure',
  'ignore',
];

/** A term found in a text: its normalised words and its canonical name under each sense it has. */
export interface TermMatch {
  phrase: string;
  senses: ReadonlyMap<Sense, string>;
}

interface Node {
  next: Map<string, Node>;
  senses?: Map<Sense, string>;
}

/** The gold lexicon, ready for matching. */
export interface GoldLexicon {
  /** SHA-256 of the snapshot text. */
  readonly sha256: string;
  /** Number of concept lines. */
  readonly entries: number;
  /** Leftmost-longest matches of any alias over the words of `N(text)`, never across a segment break (§3). */
  find(text: string): TermMatch[];
  /** Normalised aliases of every entry with this sense and canonical name (§1); empty when unknown. */
  synonyms(sense: Sense, canonical: string): ReadonlySet<string>;
  /** Normalised aliases of every entry, any sense, that has an alias equal to `N(name)`; else just `N(name)` (§5). */
  synonymsOfName(name: string): ReadonlySet<string>;
}

/**
 * Parse snapshot text (`sense | canonical | alias, alias`; `#` comments).
 *
 * @example
 * const lexicon = parseGoldLexicon('medication | acetaminophen | acetaminophen, tylenol');
 * lexicon.find('Takes Tylenol.'); // → [{ phrase: 'tylenol', senses: Map { 'medication' → 'acetaminophen' } }]
 */
export function parseGoldLexicon(text: string): GoldLexicon {
  const root: Node = { next: new Map() };
  const bySenseCanonical = new Map<string, Set<string>>();
  const byAlias = new Map<string, Set<string>>();
  let entries = 0;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [senseText, canonical, aliasText, ...extra] = line.split('|').map((part) => part.trim());
    const sense = senseText as Sense;
    if (!SENSES.includes(sense) || !canonical || aliasText === undefined || extra.length > 0) {
      throw new Error(`gold lexicon line ${index + 1} is not "sense | canonical | aliases": ${line}`);
    }
    entries++;
    const aliases = aliasText
      .split(',')
      .map((a) => normalize(a.trim()))
      .filter((a) => a !== '' && !a.includes(BREAK));
    const key = `${sense}\u0000${canonical}`;
    const synonyms = bySenseCanonical.get(key) ?? new Set<string>();
    bySenseCanonical.set(key, synonyms);
    for (const alias of aliases) {
      synonyms.add(alias);
      let node = root;
      for (const w of alias.split(' ')) {
        let child = node.next.get(w);
        if (child === undefined) {
          child = { next: new Map() };
          node.next.set(w, child);
        }
        node = child;
      }
      node.senses ??= new Map();
      // The first entry that claims a phrase under a sense keeps it, as in the extractor's trie.
      if (!node.senses.has(sense)) node.senses.set(sense, canonical);
    }
  }
  // An alias points to the synonyms of every concept (sense + canonical) that has it.
  for (const synonyms of bySenseCanonical.values()) {
    for (const alias of synonyms) {
      const group = byAlias.get(alias) ?? new Set<string>();
      byAlias.set(alias, group);
      for (const s of synonyms) group.add(s);
    }
  }

  return {
    sha256: createHash('sha256').update(text).digest('hex'),
    entries,
    find(input: string): TermMatch[] {
      const ws = words(input);
      const out: TermMatch[] = [];
      for (let i = 0; i < ws.length; ) {
        let node: Node | undefined = root;
        let best: { length: number; senses: Map<Sense, string> } | undefined;
        for (let j = i; j < ws.length; j++) {
          const w = ws[j]!;
          if (w === BREAK) break;
          node = node.next.get(w);
          if (node === undefined) break;
          if (node.senses) best = { length: j - i + 1, senses: node.senses };
        }
        if (best === undefined) {
          i++;
          continue;
        }
        out.push({ phrase: ws.slice(i, i + best.length).join(' '), senses: best.senses });
        i += best.length;
      }
      return out;
    },
    synonyms(sense: Sense, canonical: string): ReadonlySet<string> {
      return bySenseCanonical.get(`${sense}\u0000${canonical}`) ?? new Set();
    },
    synonymsOfName(name: string): ReadonlySet<string> {
      const n = normalize(name);
      return byAlias.get(n) ?? new Set(n === '' ? [] : [n]);
    },
  };
}

/**
 * Load the frozen snapshot next to this module and check its hash.
 * `expectedSha256: null` skips the check (only for regenerating it).
 */
export function loadGoldLexicon(expectedSha256: string | null = GOLD_LEXICON_SHA256): GoldLexicon {
  const file = path.join(import.meta.dirname, GOLD_LEXICON_FILE);
  const lexicon = parseGoldLexicon(readFileSync(file, 'utf8'));
  if (expectedSha256 !== null && lexicon.sha256 !== expectedSha256) {
    throw new Error(
      `${file} changed (sha256 ${lexicon.sha256}, expected ${expectedSha256}). The gold standard is fixed; ` +
        'if the change is intended, update GOLD_LEXICON_SHA256 and record it in docs/EVALUATION.md.',
    );
  }
  return lexicon;
}
