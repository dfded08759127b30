/**
 * Dose, frequency and route spans of a sentence, and their attachment to
 * the nearest medication in it.
 */
import type { Analysis, TermHit } from './analyze.ts';
import { DOSE_PATTERN, FREQUENCY_PATTERNS, normalizeUnit, ROUTE_PATTERNS } from './lexicon/patterns.ts';

/** A dose, frequency or route found in a sentence, at a token index. */
export interface AttributeSpan {
  readonly kind: 'dose' | 'frequency' | 'route';
  readonly value: string;
  readonly token: number;
}

/** Medication attributes collected for one mention. */
export interface MedAttributes {
  dose?: string;
  frequency?: string;
  route?: string;
}

function tokenAt(a: Analysis, charIndex: number): number {
  for (let i = 0; i < a.tokens.length; i++) if ((a.tokens[i]?.end ?? 0) > charIndex) return i;
  return a.tokens.length - 1;
}

/** Find every dose, frequency and route in the sentence. Overlapping frequency phrases keep the most specific. */
export function attributeSpans(a: Analysis): AttributeSpan[] {
  const text = a.sentence.lower;
  const out: AttributeSpan[] = [];
  if (/\d/.test(text)) {
    for (const m of text.matchAll(DOSE_PATTERN)) {
      const amount = (m[1] ?? '').replace(/\s+/g, '');
      out.push({ kind: 'dose', value: `${amount} ${normalizeUnit(m[2] ?? '', amount)}`, token: tokenAt(a, m.index) });
    }
  }
  const taken: [number, number][] = [];
  for (const [re, name] of FREQUENCY_PATTERNS) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const s = m.index;
      const e = s + m[0].length;
      if (taken.some(([ts, te]) => s < te && e > ts)) continue;
      taken.push([s, e]);
      out.push({ kind: 'frequency', value: name(m), token: tokenAt(a, s) });
    }
  }
  for (const [re, name] of ROUTE_PATTERNS) {
    re.lastIndex = 0;
    for (const m of text.matchAll(re)) out.push({ kind: 'route', value: name, token: tokenAt(a, m.index) });
  }
  return out;
}

function addValue(attrs: MedAttributes, kind: AttributeSpan['kind'], value: string): void {
  const old = attrs[kind];
  if (old === undefined) attrs[kind] = value;
  else if (!old.split(', ').includes(value)) attrs[kind] = `${old}, ${value}`;
}

/**
 * Attach each span to the nearest medication hit, preferring one in the
 * span's clause; a span in a clause with other clinical terms and no
 * medication stays unattached.
 */
export function attachSpans(
  a: Analysis,
  meds: readonly TermHit[],
  spans: readonly AttributeSpan[],
): Map<TermHit, MedAttributes> {
  const out = new Map<TermHit, MedAttributes>();
  for (const span of spans) {
    const clause = a.clause[span.token];
    const sameClause = meds.filter((h) => a.clause[h.start] === clause);
    let pool = sameClause;
    if (pool.length === 0) {
      const clauseHasTerms = a.terms.some((t) => a.clause[t.start] === clause);
      if (clauseHasTerms) continue;
      pool = meds.slice();
    }
    let best: TermHit | undefined;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const h of pool) {
      // A span after its medication ("metformin 500 mg") is the usual order, so it wins ties.
      const d = span.token >= h.end ? span.token - h.end : h.start - span.token + 0.5;
      if (d < bestDistance) {
        best = h;
        bestDistance = d;
      }
    }
    if (best === undefined) continue;
    const attrs = out.get(best) ?? {};
    addValue(attrs, span.kind, span.value);
    out.set(best, attrs);
  }
  return out;
}

/** Collect all spans into one attribute set (for a medication named in an earlier sentence). */
export function mergeSpans(spans: readonly AttributeSpan[]): MedAttributes {
  const attrs: MedAttributes = {};
  for (const s of spans) addValue(attrs, s.kind, s.value);
  return attrs;
}
