/**
 * The lexicons are written as small text tables, one concept a line:
 * `canonical | alias, alias, ...`. Blank lines and `#` comments are ignored.
 * The canonical name is always an alias of itself.
 */

/** One concept of a lexicon: its canonical name and every surface form. */
export interface LexiconEntry {
  readonly canonical: string;
  readonly aliases: readonly string[];
}

/**
 * Parse a lexicon table.
 *
 * @example
 * parseTable('acetaminophen | tylenol, paracetamol')
 * // → [{ canonical: 'acetaminophen', aliases: ['acetaminophen', 'tylenol', 'paracetamol'] }]
 */
export function parseTable(table: string): LexiconEntry[] {
  const out: LexiconEntry[] = [];
  for (const raw of table.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const bar = line.indexOf('|');
    const canonical = (bar === -1 ? line : line.slice(0, bar)).trim().toLowerCase();
    const rest = bar === -1 ? '' : line.slice(bar + 1);
    const aliases = [canonical];
    for (const alias of rest.split(',')) {
      const a = alias.trim().toLowerCase();
      if (a !== '' && !aliases.includes(a)) aliases.push(a);
    }
    out.push({ canonical, aliases });
  }
  return out;
}
