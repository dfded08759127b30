/**
 * Merging one mention into the profile's facts: a new fact, or a known
 * fact that gains a source and, when the mention says so, a new status,
 * dose, frequency, reaction, ... A corrected fact keeps its fields against
 * mentions from turns up to its correction.
 */
import { isDrugName } from './lexicon/index.ts';
import type { Fact, FactMention, FactSource, Profile } from './types.ts';
import { SECTION_OF } from './types.ts';

/** Sources kept per fact: the first, and the most recent up to this many in all. */
export const MAX_SOURCES = 20;

/** A profile under construction: arrays are replaced, never mutated. */
export type Draft = { -readonly [K in keyof Profile]: Profile[K] };

function withSource(sources: readonly FactSource[], s: FactSource): FactSource[] {
  if (sources.some((x) => x.turn === s.turn && x.role === s.role)) return sources as FactSource[];
  const next = [...sources, s];
  return next.length > MAX_SOURCES ? [next[0] as FactSource, ...next.slice(next.length - MAX_SOURCES + 1)] : next;
}

function toFact(mention: FactMention): Fact {
  const { key: _key, explicit: _explicit, source, ...rest } = mention;
  const fact = { ...rest, sources: [source] } as Fact;
  if (fact.kind === 'person') fact.conditions = [...fact.conditions];
  return fact;
}

function unionList(old: string | undefined, add: string): string {
  if (old === undefined || old === '') return add;
  const parts = old.split(', ');
  for (const p of add.split(', ')) if (!parts.includes(p)) parts.push(p);
  return parts.join(', ');
}

/** Apply a mention's fields to a copy of a fact; returns whether any field changed. */
function updateFields(f: Fact, mention: FactMention): boolean {
  const before = JSON.stringify({ ...f, sources: undefined });
  const set = <T extends object, K extends keyof T>(o: T, k: K, v: T[K] | undefined): void => {
    if (v !== undefined) o[k] = v;
  };
  if (f.kind === 'medication' && mention.kind === 'medication') {
    if (mention.explicit) f.status = mention.status;
    set(f, 'dose', mention.dose);
    set(f, 'frequency', mention.frequency);
    set(f, 'route', mention.route);
  } else if (f.kind === 'allergy' && mention.kind === 'allergy') {
    if (mention.explicit) f.status = mention.status;
    if (mention.reaction !== undefined) f.reaction = unionList(f.reaction, mention.reaction);
  } else if (f.kind === 'condition' && mention.kind === 'condition') {
    if (mention.explicit) f.status = mention.status;
  } else if (f.kind === 'procedure' && mention.kind === 'procedure') {
    if (mention.status === 'negated') f.status = 'negated';
    else delete f.status;
    set(f, 'date', mention.date);
  } else if (f.kind === 'person' && mention.kind === 'person') {
    set(f, 'name', mention.name);
    if (mention.deceased === true) f.deceased = true;
    for (const c of mention.conditions) {
      const opposite = c.startsWith('no ') ? c.slice(3) : `no ${c}`;
      f.conditions = f.conditions.filter((x) => x !== opposite);
      if (!f.conditions.includes(c)) f.conditions = [...f.conditions, c];
    }
  } else if (f.kind === 'date' && mention.kind === 'date') {
    set(f, 'iso', mention.iso);
    f.text = mention.text;
  } else if (f.kind === 'preference' && mention.kind === 'preference') {
    f.text = mention.text;
  } else if (f.kind === 'entity' && mention.kind === 'entity') {
    f.text = mention.text;
    f.type = mention.type;
  }
  return JSON.stringify({ ...f, sources: undefined }) !== before;
}

/** Whether a correction protects a fact from a mention of this turn. */
function protectedFrom(f: Fact, turn: number): boolean {
  return f.corrected === true && (f.correctedAtTurn ?? Number.POSITIVE_INFINITY) >= turn;
}

function removeIfUnprotected(d: Draft, section: 'medications' | 'allergies', id: string, turn: number): void {
  const list = d[section] as Fact[];
  const i = list.findIndex((f) => f.id === id);
  if (i < 0 || protectedFrom(list[i] as Fact, turn)) return;
  (d as Record<string, unknown>)[section] = list.filter((_, k) => k !== i);
}

/** Merge one mention into the draft (its arrays are replaced, never mutated). Returns whether anything changed. */
export function mergeMention(d: Draft, mention: FactMention): boolean {
  const section = SECTION_OF[mention.kind];
  const list = d[section] as Fact[];
  const turn = mention.source.turn;
  const i = list.findIndex((f) => f.id === mention.id);
  if (i < 0) {
    const retractedAt = d.retracted?.[mention.id];
    if (retractedAt !== undefined && turn <= retractedAt) return false;
    // "No medications" / NKDA do not stand beside known active ones.
    if (mention.kind === 'medication' && mention.name === 'none' && d.medications.some((f) => f.status === 'active'))
      return false;
    if (
      mention.kind === 'allergy' &&
      mention.substance === 'drug' &&
      d.allergies.some((f) => f.status === 'active' && isDrugName(f.substance))
    )
      return false;
    (d as Record<string, unknown>)[section] = [...list, toFact(mention)];
    if (mention.kind === 'medication' && mention.status === 'active')
      removeIfUnprotected(d, 'medications', 'med:none', turn);
    if (mention.kind === 'allergy' && mention.status === 'active' && isDrugName(mention.substance))
      removeIfUnprotected(d, 'allergies', 'allergy:drug', turn);
    return true;
  }
  const old = list[i] as Fact;
  const next = { ...old, sources: withSource(old.sources, mention.source) } as Fact;
  if (next.kind === 'person') next.conditions = [...next.conditions];
  let changed = next.sources !== old.sources;
  if (!protectedFrom(old, turn) && updateFields(next, mention)) {
    changed = true;
    delete next.corrected;
    delete next.correctedAtTurn;
    delete next.confirmed;
  }
  if (!changed) return false;
  const copy = list.slice();
  copy[i] = next;
  (d as Record<string, unknown>)[section] = copy;
  return true;
}
