/**
 * NegEx-style status of a term hit: the nearest decisive cue before it in
 * its clause (negation, stop, start, history), else cues after it
 * ("... anymore", "... was discontinued"), else plain active.
 */
import { type Analysis, type CueHit, cuesIn, type TermHit } from './analyze.ts';
import type { FactStatus } from './types.ts';

/** A status and whether an explicit cue said so. */
export interface StatusReading {
  readonly status: FactStatus;
  readonly explicit: boolean;
}

const OBJECT_WORDS = new Set(['my', 'your', 'his', 'her', 'the', 'their', 'our']);
const PERFECT_AUX = new Set(['have', 'has', 'ive', 'weve', 'youve', 'theyve', 'hes', 'shes', 'having']);

function isPerfectHad(a: Analysis, cue: CueHit): boolean {
  const tok = a.tokens[cue.start];
  if (tok?.text !== 'had' || cue.end - cue.start !== 1) return false;
  const prev = a.tokens[cue.start - 1];
  const prev2 = a.tokens[cue.start - 2];
  return (prev !== undefined && PERFECT_AUX.has(prev.norm)) || (prev2 !== undefined && PERFECT_AUX.has(prev2.norm));
}

const LIST_WORDS = new Set(['and', 'or', 'any', 'the', 'a', 'my', 'your', 'of', 'other']);

/** Words between two token positions that are not clinical terms, list glue or punctuation. */
function wordsBetween(a: Analysis, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const t = a.tokens[i];
    if (t === undefined || t.punct || LIST_WORDS.has(t.norm)) continue;
    if (a.terms.some((h) => h.start <= i && i < h.end)) continue;
    n++;
  }
  return n;
}

/** Read the status of a hit from the cues of its clause. */
export function statusAt(a: Analysis, hit: TermHit): StatusReading {
  // "I never took anything for diabetes": the condition after "for" is the reason, not what is denied.
  let k = hit.start - 1;
  while (k >= 0 && OBJECT_WORDS.has(a.tokens[k]?.norm ?? '')) k--;
  if (a.tokens[k]?.norm === 'for' && hit.senses.condition !== undefined && !hit.senses.medication)
    return { status: 'active', explicit: false };
  const clause = a.clause[hit.start] ?? 0;
  const cues = cuesIn(a, clause);
  let sawActive = false;
  for (let i = cues.length - 1; i >= 0; i--) {
    const cue = cues[i] as CueHit;
    if (cue.end > hit.start) continue;
    const types = cue.types;
    if (types.includes('pseudo')) continue;
    if (types.includes('neg')) {
      // NegEx's window: a negation reaches about five words (list items and their commas do not count).
      if (wordsBetween(a, cue.end, hit.start) > 5) continue;
      const after = cues.some((c) => c.start >= hit.end && c.types.includes('stopPost'));
      return { status: after ? 'stopped' : 'negated', explicit: true };
    }
    if (types.includes('stop')) return { status: 'stopped', explicit: true };
    if (types.includes('start')) return { status: 'active', explicit: true };
    if (types.includes('hist')) {
      if (isPerfectHad(a, cue)) {
        sawActive = true;
        continue;
      }
      return { status: 'historical', explicit: true };
    }
    if (types.includes('active')) sawActive = true;
  }
  if (cues.some((c) => c.start >= hit.end && c.types.includes('stopPost')))
    return { status: 'stopped', explicit: true };
  if (cues.some((c) => c.types.includes('histAny'))) return { status: 'historical', explicit: true };
  return { status: 'active', explicit: sawActive };
}

/** Whether a hit falls inside a negation scope (for allergies and family history, which only know yes/no). */
export function isNegated(a: Analysis, hit: TermHit): boolean {
  return statusAt(a, hit).status === 'negated';
}
