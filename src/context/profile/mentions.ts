/**
 * Builders for fact mentions: each fixes the deterministic id from the kind
 * and the normalised key, so the same fact mentioned again merges.
 */
import type { FactKind, FactMention, FactSource, FactStatus } from './types.ts';
import { factId } from './types.ts';

/** The mention of kind `K` (helper type for callers that narrow). */
export type MentionOfKind<K extends FactKind> = Extract<FactMention, { kind: K }>;

/** A medication mention. `name` is the canonical name (or "none" for "no medications"). */
export function medication(
  name: string,
  source: FactSource,
  status: FactStatus,
  explicit: boolean,
  attrs: { dose?: string; frequency?: string; route?: string } = {},
): MentionOfKind<'medication'> {
  return { kind: 'medication', id: factId('medication', name), key: name, name, status, explicit, source, ...attrs };
}

/** An allergy mention; substance "drug" with status "negated" is NKDA. */
export function allergy(
  substance: string,
  source: FactSource,
  status: 'active' | 'negated',
  explicit: boolean,
  reaction?: string,
): MentionOfKind<'allergy'> {
  const base = {
    kind: 'allergy',
    id: factId('allergy', substance),
    key: substance,
    substance,
    status,
    explicit,
    source,
  } as const;
  return reaction === undefined ? base : { ...base, reaction };
}

/** A condition mention (the patient's own). */
export function condition(
  name: string,
  source: FactSource,
  status: FactStatus,
  explicit: boolean,
): MentionOfKind<'condition'> {
  return { kind: 'condition', id: factId('condition', name), key: name, name, status, explicit, source };
}

/** A procedure mention; `negated` for "never had surgery". */
export function procedure(
  name: string,
  source: FactSource,
  negated: boolean,
  date?: string,
): MentionOfKind<'procedure'> {
  const base = {
    kind: 'procedure',
    id: factId('procedure', name),
    key: name,
    name,
    explicit: negated,
    source,
  } as const;
  const withStatus = negated ? { ...base, status: 'negated' as const } : base;
  return date === undefined ? withStatus : { ...withStatus, date };
}

/** A person mention. Family members are keyed by relation, named clinicians by name. */
export function person(
  relation: string,
  source: FactSource,
  attrs: { name?: string; conditions?: string[]; deceased?: boolean; key?: string } = {},
): MentionOfKind<'person'> {
  const key = attrs.key ?? relation;
  const out: MentionOfKind<'person'> = {
    kind: 'person',
    id: factId('person', key),
    key,
    relation,
    conditions: attrs.conditions ?? [],
    explicit: false,
    source,
  };
  if (attrs.name !== undefined) out.name = attrs.name;
  if (attrs.deceased === true) out.deceased = true;
  return out;
}

/** A date mention; keyed by its ISO date (or text) and context. */
export function date(text: string, context: string, source: FactSource, iso?: string): MentionOfKind<'date'> {
  const key = `${iso ?? text} ${context}`.trim();
  const base = { kind: 'date', id: factId('date', key), key, text, context, explicit: false, source } as const;
  return iso === undefined ? base : { ...base, iso };
}

/** A preference mention, keyed by its first words. */
export function preference(text: string, source: FactSource): MentionOfKind<'preference'> {
  const key = text.split(/\s+/).slice(0, 8).join(' ');
  return { kind: 'preference', id: factId('preference', key), key, text, explicit: false, source };
}

/** An entity mention; values are keyed by what they measure so a newer reading replaces the older. */
export function entity(
  text: string,
  type: string,
  source: FactSource,
  key = `${type} ${text}`,
): MentionOfKind<'entity'> {
  return { kind: 'entity', id: factId('entity', key), key, text, type, explicit: false, source };
}
