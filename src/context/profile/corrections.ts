/**
 * Clinician review of profile facts: confirm, correct, retract. A
 * correction wins over later extraction until a turn newer than the
 * correction contradicts it; a retracted fact comes back only from a turn
 * newer than the retraction.
 */
import { AppError } from '../../errors/index.ts';
import { canonicalName, type SenseKind } from './lexicon/index.ts';
import { assertProfile } from './profile.ts';
import { type Fact, type FactKind, factId, type Profile, SECTION_OF } from './types.ts';

/** A review operation. */
export type CorrectionOp = 'confirm' | 'correct' | 'retract';

/** The fact to review: its kind and id (or its key field, e.g. `name`), plus the corrected fields for `correct`. */
export interface CorrectionTarget {
  kind: FactKind;
  id?: string;
  [field: string]: unknown;
}

type FieldType = 'string' | 'string?' | 'strings' | 'boolean?' | readonly string[];
const STATUS = ['active', 'stopped', 'negated', 'historical'] as const;

/** Correctable fields per kind, with their types (`?`: may be `null` to clear). */
const FIELDS: Readonly<Record<FactKind, Readonly<Record<string, FieldType>>>> = {
  medication: { name: 'string', dose: 'string?', frequency: 'string?', route: 'string?', status: STATUS },
  allergy: { substance: 'string', reaction: 'string?', status: ['active', 'negated'] },
  condition: { name: 'string', status: STATUS },
  procedure: { name: 'string', date: 'string?', status: ['negated', 'performed'] },
  person: { name: 'string?', relation: 'string', conditions: 'strings', deceased: 'boolean?' },
  date: { text: 'string', iso: 'string?', context: 'string' },
  preference: { text: 'string' },
  entity: { text: 'string', type: 'string' },
};
/** The field a kind's id is made from, and the lexicon sense that normalises it. */
const KEY_FIELD: Partial<Record<FactKind, readonly [string, SenseKind | undefined]>> = {
  medication: ['name', 'medication'],
  allergy: ['substance', 'medication'],
  condition: ['name', 'condition'],
  procedure: ['name', 'procedure'],
};

function canonical(kind: FactKind, value: string): string {
  const sense = KEY_FIELD[kind]?.[1];
  const lower = value.trim().toLowerCase();
  if (sense === undefined) return lower;
  return (
    canonicalName(sense, lower) ??
    (kind === 'medication' ? canonicalName('drugClass', lower) : undefined) ??
    (kind === 'allergy' ? (canonicalName('drugClass', lower) ?? canonicalName('allergen', lower)) : undefined) ??
    lower
  );
}

function checkField(kind: FactKind, field: string, value: unknown): void {
  const type = FIELDS[kind][field];
  if (type === undefined) throw new TypeError(`fact.${field} is not a field of a ${kind}`);
  const ok = Array.isArray(type)
    ? typeof value === 'string' && (type as readonly string[]).includes(value)
    : type === 'string'
      ? typeof value === 'string' && value.trim() !== ''
      : type === 'string?'
        ? value === null || (typeof value === 'string' && value.trim() !== '')
        : type === 'boolean?'
          ? value === null || typeof value === 'boolean'
          : Array.isArray(value) && value.every((v) => typeof v === 'string');
  if (!ok) throw new TypeError(`fact.${field} has the wrong type for a ${kind}`);
}

function validate(op: unknown, fact: unknown, at: unknown): asserts fact is CorrectionTarget {
  if (op !== 'confirm' && op !== 'correct' && op !== 'retract')
    throw new TypeError("op must be 'confirm', 'correct' or 'retract'");
  const f = fact as Partial<CorrectionTarget> | null;
  if (typeof f !== 'object' || f === null) throw new TypeError('fact must be an object');
  if (typeof f.kind !== 'string' || !(f.kind in FIELDS))
    throw new TypeError(`fact.kind must be one of ${Object.keys(FIELDS).join(', ')}`);
  if (f.id !== undefined && (typeof f.id !== 'string' || f.id === ''))
    throw new TypeError('fact.id must be a non-empty string');
  for (const [field, value] of Object.entries(f))
    if (field !== 'kind' && field !== 'id') checkField(f.kind, field, value);
  const t = at as { turn?: unknown } | null;
  if (typeof t !== 'object' || t === null || typeof t.turn !== 'number' || !Number.isInteger(t.turn) || t.turn < 0)
    throw new TypeError('at.turn must be a non-negative integer');
  if (op === 'correct' && Object.keys(f).every((k) => k === 'kind' || k === 'id'))
    throw new TypeError('a correction must name at least one field to change');
}

function idOf(target: CorrectionTarget): string {
  if (target.id !== undefined) return target.id;
  const key = KEY_FIELD[target.kind]?.[0];
  const value = key === undefined ? undefined : target[key];
  if (typeof value !== 'string')
    throw new TypeError(`fact.id is required for a ${target.kind} (or give its ${key ?? 'id'})`);
  return factId(target.kind, canonical(target.kind, value));
}

/**
 * Confirm, correct or retract one fact. Returns a new profile with
 * `version + 1`. `at.turn` is the conversation's turn when the review was
 * made: extraction from that turn or older never overrides a correction or
 * re-adds a retracted fact.
 *
 * @throws TypeError for a malformed op, fact or `at`.
 * @throws AppError `not_found` when no fact has that id.
 * @example
 * applyCorrection(profile, 'correct', { kind: 'medication', id: 'med:metformin', dose: '1000 mg' }, { turn: 12 });
 */
export function applyCorrection(
  profile: Profile,
  op: CorrectionOp,
  fact: CorrectionTarget,
  at: { turn: number },
): Profile {
  assertProfile(profile);
  validate(op, fact, at);
  const kind = fact.kind;
  const section = SECTION_OF[kind];
  const list = profile[section] as Fact[];
  const id = idOf(fact);
  const index = list.findIndex((f) => f.id === id);
  if (index < 0) throw new AppError('not_found', `No ${kind} with id ${id} in the profile`);
  const old = list[index] as Fact;
  const retracted = { ...(profile.retracted ?? {}) };
  let nextList: Fact[];
  if (op === 'retract') {
    retracted[id] = at.turn;
    nextList = list.filter((_, i) => i !== index);
  } else if (op === 'confirm') {
    nextList = list.slice();
    nextList[index] = { ...old, confirmed: true };
  } else {
    const next = { ...old, corrected: true, correctedAtTurn: at.turn } as Fact & Record<string, unknown>;
    for (const [field, value] of Object.entries(fact)) {
      if (field === 'kind' || field === 'id') continue;
      if (value === null || (field === 'status' && value === 'performed')) delete next[field];
      else if (field === KEY_FIELD[kind]?.[0]) next[field] = canonical(kind, value as string);
      else next[field] = Array.isArray(value) ? [...value] : value;
    }
    const keyField = KEY_FIELD[kind]?.[0];
    if (keyField !== undefined) next.id = factId(kind, next[keyField] as string);
    nextList = list.slice();
    nextList[index] = next;
    if (next.id !== id) {
      // Renamed: the old id must not come back from the turns already read; a fact already under the new id merges in.
      retracted[id] = at.turn;
      const twin = nextList.findIndex((f, i) => i !== index && f.id === next.id);
      if (twin >= 0) {
        const sources = [...(nextList[twin] as Fact).sources, ...next.sources].sort((a, b) => a.turn - b.turn);
        next.sources = sources.filter((s, i) => sources.findIndex((x) => x.turn === s.turn && x.role === s.role) === i);
        nextList.splice(twin, 1);
      }
      delete retracted[next.id];
    }
  }
  return { ...profile, [section]: nextList, retracted, version: profile.version + 1 };
}
