/**
 * Writes bench/eval/gold-lexicon.txt, the frozen copy of the extractor's
 * lexicons the evaluation finds gold terms with (docs/EVALUATION.md §1).
 *
 * Run once, from a clean checkout of the lexicon:
 * `node --import tsx bench/eval/snapshot-lexicon.ts`. Regenerating it changes
 * the gold standard: update GOLD_LEXICON_SHA256 in gold-lexicon.ts and record
 * the new commit and hash in docs/EVALUATION.md.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ALLERGENS, REACTIONS } from '../../src/context/profile/lexicon/allergens.ts';
import { CONDITIONS } from '../../src/context/profile/lexicon/conditions.ts';
import { DRUG_CLASSES } from '../../src/context/profile/lexicon/drug-classes.ts';
import { MEDICATIONS } from '../../src/context/profile/lexicon/medications.ts';
import { PROCEDURES } from '../../src/context/profile/lexicon/procedures.ts';
import type { LexiconEntry } from '../../src/context/profile/lexicon/table.ts';
import { GOLD_LEXICON_FILE } from './gold-lexicon.ts';

/** Copied from src/context/profile/lexicon/index.ts (not exported there): phrases that block a shorter term. */
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

const SOURCES: ReadonlyArray<readonly [string, readonly LexiconEntry[]]> = [
  ['medication', MEDICATIONS],
  ['drugClass', DRUG_CLASSES],
  ['condition', CONDITIONS],
  ['allergen', ALLERGENS],
  ['reaction', REACTIONS],
  ['procedure', PROCEDURES],
  ['ignore', IGNORED.map((phrase) => ({ canonical: phrase, aliases: [phrase] }))],
];

const ROOT = path.resolve(import.meta.dirname, '../..');
const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();

const dirty = git('status', '--porcelain', '--', 'src/context/profile/lexicon');
if (dirty !== '') {
  throw new Error(`src/context/profile/lexicon has uncommitted changes; snapshot a committed lexicon:\n${dirty}`);
}
// The commit that last changed the lexicon: later commits that leave it alone do not change the snapshot.
const commit = git('log', '-1', '--format=%h', '--', 'src/context/profile/lexicon');

const lines = [
  `# Gold lexicon for the evaluation, frozen from src/context/profile/lexicon/ at commit ${commit}`,
  '# by bench/eval/snapshot-lexicon.ts. Do not edit: see docs/EVALUATION.md, "Gold facts and matching rule".',
  '# sense | canonical | aliases (the canonical name and the hyphen variant included)',
];
for (const [sense, entries] of SOURCES) {
  for (const entry of entries) {
    const aliases: string[] = [];
    for (const alias of entry.aliases) {
      // The extractor's spelling variant: "a-fib" also as "afib" ("a fib" is what normalisation gives anyway).
      for (const v of alias.includes('-') ? [alias, alias.replace(/-/g, '')] : [alias]) {
        if (!aliases.includes(v)) aliases.push(v);
      }
    }
    if (aliases.some((a) => a.includes(',') || a.includes('|')))
      throw new Error(`alias with a separator: ${entry.canonical}`);
    lines.push(`${sense} | ${entry.canonical} | ${aliases.join(', ')}`);
  }
}
const text = `${lines.join('\n')}\n`;
const file = path.join(import.meta.dirname, GOLD_LEXICON_FILE);
writeFileSync(file, text);
console.log(`wrote ${file}: ${lines.length - 3} entries, sha256 ${createHash('sha256').update(text).digest('hex')}`);
