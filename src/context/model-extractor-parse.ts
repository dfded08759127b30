/**
 * Reading the model extractor's answer: the JSON schema it is asked for, and
 * the validation that turns an answer into fact mentions grounded in the
 * turn's own words (an item naming anything the turn does not say is
 * dropped), with the same ids as the embedded extractor.
 */
import { ModelAnswerError } from './model-summarizer.ts';
import { canonicalName } from './profile/lexicon/index.ts';
import { DOSE_PATTERN, FREQUENCY_PATTERNS, normalizeUnit } from './profile/lexicon/patterns.ts';
import * as m from './profile/mentions.ts';
import { detokenize, digitize, phraseKey } from './profile/text.ts';
import type { FactMention, FactSource, FactStatus, TurnInput } from './profile/types.ts';

/**
 * The JSON the model must answer with. Every section is optional; names are
 * copied as written in the turn.
 */
export const EXTRACTION_SCHEMA = `{
  "medications": [{ "name": string, "dose"?: string, "frequency"?: string, "status": "active"|"stopped"|"negated"|"historical" }],
  "allergies": [{ "substance": string, "reaction"?: string, "status": "active"|"negated" }],
  "conditions": [{ "name": string, "status": "active"|"stopped"|"negated"|"historical" }],
  "people": [{ "relation": string, "name"?: string, "conditions"?: string[], "deceased"?: boolean }],
  "preferences": [{ "text": string }]
}`;

/** The fixed instructions of every extraction. */
export const EXTRACTION_SYSTEM_PROMPT = [
  'You extract clinical facts about the patient from ONE conversation turn. Answer with a single JSON object and nothing else, of this shape:',
  EXTRACTION_SCHEMA,
  'Rules:',
  '- Only facts stated in the turn marked TURN; earlier turns are context for reading it (e.g. what a "yes" answers).',
  '- Copy every name, substance, reaction, condition and person name exactly as written in the turn. Never add facts that are not there.',
  '- status: "stopped" for a medication or condition stopped or resolved, "negated" for a denied one, "historical" for the past.',
  "- people: the patient's family members or clinicians, with their own conditions (family history), never the patient's.",
  "- preferences: what the patient prefers or asks to be called, in the turn's words.",
  '- Leave out anything uncertain. No facts: {}.',
].join('\n');

/** Words that name a kind of fact, not a fact ("my medications"). */
const GENERIC = new Set(
  'medication medications meds medicine medicines pill pills drug drugs allergy allergies condition conditions none nothing it'.split(
    ' ',
  ),
);
const STATUSES = new Set<FactStatus>(['active', 'stopped', 'negated', 'historical']);
const MAX_ITEMS = 30;
const MAX_CHARS = 200;

/**
 * Read a model answer into grounded mentions of `turn`. Throws
 * `ModelAnswerError` (`empty`, `malformed`) when the answer is not one JSON
 * object; drops (and counts) items that are malformed or name something the
 * turn does not say.
 */
export function parseExtraction(answer: string, turn: TurnInput): { mentions: FactMention[]; dropped: number } {
  const body = answer.trim().replace(/^```(?:json)?\s*|\s*```$/g, '');
  if (body === '') throw new ModelAnswerError('empty', 'the model answered with nothing');
  let root: unknown;
  try {
    root = JSON.parse(body);
  } catch (error) {
    throw new ModelAnswerError('malformed', 'the model answer is not JSON', { cause: error });
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new ModelAnswerError('malformed', 'the model answer is not a JSON object');
  }
  const g = new Grounding(turn.text);
  const source: FactSource = { turn: turn.number, role: turn.role };
  const mentions: FactMention[] = [];
  let dropped = 0;
  const sections: [string, (item: Record<string, unknown>) => FactMention | undefined][] = [
    ['medications', (o) => readMedication(o, g, source)],
    ['allergies', (o) => readAllergy(o, g, source)],
    ['conditions', (o) => readCondition(o, g, source)],
    ['people', (o) => readPerson(o, g, source)],
    ['preferences', (o) => readPreference(o, g, source)],
  ];
  for (const [key, read] of sections) {
    const items = (root as Record<string, unknown>)[key];
    if (items === undefined) continue;
    if (!Array.isArray(items)) {
      dropped++;
      continue;
    }
    for (const item of items.slice(0, MAX_ITEMS)) {
      const mention = typeof item === 'object' && item !== null ? read(item as Record<string, unknown>) : undefined;
      if (mention === undefined || mentions.some((x) => x.id === mention.id)) dropped++;
      else mentions.push(mention);
    }
    dropped += Math.max(0, items.length - MAX_ITEMS);
  }
  return { mentions, dropped };
}

/** The turn's words in matching form, and the doses and frequencies it states. */
class Grounding {
  readonly #tokens: string[];
  readonly #joined: string;
  readonly #doses: Set<string>;
  readonly #frequencies: Set<string>;

  constructor(text: string) {
    const lower = digitize(detokenize(text).toLowerCase());
    this.#tokens = phraseKey(lower);
    this.#joined = ` ${this.#tokens.join(' ')} `;
    this.#doses = new Set(dosesIn(lower));
    this.#frequencies = new Set(frequenciesIn(lower));
  }

  /** Whether the phrase's words appear together, in order, in the turn. */
  says(phrase: string): boolean {
    const key = phraseKey(digitize(detokenize(phrase).toLowerCase()));
    return key.length > 0 && this.#joined.includes(` ${key.join(' ')} `);
  }

  /** Whether every word of the phrase appears somewhere in the turn. */
  hasWords(phrase: string): boolean {
    const key = phraseKey(digitize(detokenize(phrase).toLowerCase()));
    return key.length > 0 && key.every((w) => this.#tokens.includes(w));
  }

  /** The normalised dose ("500 mg") when the turn states it. */
  dose(value: string): string | undefined {
    const d = dosesIn(digitize(value.toLowerCase()))[0];
    return d !== undefined && this.#doses.has(d) ? d : undefined;
  }

  /** The normalised frequency ("twice daily") when the turn states it. */
  frequency(value: string): string | undefined {
    const f = frequenciesIn(digitize(value.toLowerCase()))[0];
    return f !== undefined && this.#frequencies.has(f) ? f : undefined;
  }

  /** Whether the turn names this family relation or clinician role in any wording ("mom" for "mother"). */
  namesRelation(relation: string): boolean {
    for (let i = 0; i < this.#tokens.length; i++) {
      for (let n = 1; n <= 3 && i + n <= this.#tokens.length; n++) {
        const phrase = this.#tokens.slice(i, i + n).join(' ');
        if ((canonicalName('family', phrase) ?? canonicalName('clinician', phrase)) === relation) return true;
      }
    }
    return this.says(relation);
  }
}

function dosesIn(lower: string): string[] {
  return [...lower.matchAll(DOSE_PATTERN)].map((x) => {
    const amount = (x[1] ?? '').replace(/\s+/g, '');
    return `${amount} ${normalizeUnit(x[2] ?? '', amount)}`;
  });
}

/** Normalised frequencies, the most specific phrase winning where two overlap (as the embedded extractor reads them). */
function frequenciesIn(lower: string): string[] {
  const taken: [number, number][] = [];
  const out: string[] = [];
  for (const [re, name] of FREQUENCY_PATTERNS) {
    for (const x of lower.matchAll(re)) {
      const end = x.index + x[0].length;
      if (taken.some(([s, e]) => x.index < e && end > s)) continue;
      taken.push([x.index, end]);
      out.push(name(x));
    }
  }
  return out;
}

/** A trimmed, bounded string field, or undefined. */
function str(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (typeof v !== 'string') return undefined;
  const t = v.replace(/\s+/g, ' ').trim();
  return t === '' || t.length > MAX_CHARS ? undefined : t;
}

/** A name the turn says, not a generic word. */
function groundedName(o: Record<string, unknown>, key: string, g: Grounding): string | undefined {
  const name = str(o, key);
  if (name === undefined || GENERIC.has(name.toLowerCase()) || !g.says(name)) return undefined;
  return name.toLowerCase();
}

function status(o: Record<string, unknown>): FactStatus | undefined {
  const s = o['status'] ?? 'active';
  return typeof s === 'string' && STATUSES.has(s as FactStatus) ? (s as FactStatus) : undefined;
}

function readMedication(o: Record<string, unknown>, g: Grounding, source: FactSource): FactMention | undefined {
  const said = groundedName(o, 'name', g);
  const st = status(o);
  if (said === undefined || st === undefined) return undefined;
  const name = canonicalName('medication', said) ?? canonicalName('drugClass', said) ?? said;
  const attrs: { dose?: string; frequency?: string } = {};
  const dose = g.dose(str(o, 'dose') ?? '');
  const frequency = g.frequency(str(o, 'frequency') ?? '');
  if (dose !== undefined) attrs.dose = dose;
  if (frequency !== undefined) attrs.frequency = frequency;
  return m.medication(name, source, st, false, attrs);
}

function readAllergy(o: Record<string, unknown>, g: Grounding, source: FactSource): FactMention | undefined {
  const said = groundedName(o, 'substance', g);
  const st = o['status'] ?? 'active';
  if (said === undefined || (st !== 'active' && st !== 'negated')) return undefined;
  const substance =
    canonicalName('allergen', said) ?? canonicalName('medication', said) ?? canonicalName('drugClass', said) ?? said;
  const reaction = st === 'active' ? groundedName(o, 'reaction', g) : undefined;
  return m.allergy(
    substance,
    source,
    st,
    false,
    reaction === undefined ? undefined : (canonicalName('reaction', reaction) ?? reaction),
  );
}

function readCondition(o: Record<string, unknown>, g: Grounding, source: FactSource): FactMention | undefined {
  const said = groundedName(o, 'name', g);
  const st = status(o);
  if (said === undefined || st === undefined) return undefined;
  return m.condition(canonicalName('condition', said) ?? said, source, st, false);
}

function readPerson(o: Record<string, unknown>, g: Grounding, source: FactSource): FactMention | undefined {
  const given = str(o, 'relation')?.toLowerCase();
  if (given === undefined || given.split(' ').length > 3) return undefined;
  const relation = canonicalName('family', given) ?? canonicalName('clinician', given) ?? given;
  const name = o['name'] === undefined || o['name'] === null ? undefined : groundedName(o, 'name', g);
  if (o['name'] !== undefined && o['name'] !== null && name === undefined) return undefined; // an invented name
  if (!g.namesRelation(relation)) return undefined;
  const raw = o['conditions'] ?? [];
  if (!Array.isArray(raw) || (o['deceased'] !== undefined && typeof o['deceased'] !== 'boolean')) return undefined;
  const conditions: string[] = [];
  for (const c of raw.slice(0, MAX_ITEMS)) {
    const text = typeof c === 'string' ? c.replace(/\s+/g, ' ').trim().toLowerCase() : '';
    const denied = text.startsWith('no ');
    const bare = denied ? text.slice(3) : text;
    if (bare === '' || !g.says(bare)) continue;
    const canonical = canonicalName('condition', bare) ?? bare;
    const entry = denied ? `no ${canonical}` : canonical;
    if (!conditions.includes(entry)) conditions.push(entry);
  }
  return m.person(relation, source, {
    ...(name === undefined ? {} : { name, key: name }),
    conditions,
    deceased: o['deceased'] === true,
  });
}

function readPreference(o: Record<string, unknown>, g: Grounding, source: FactSource): FactMention | undefined {
  const text = str(o, 'text')
    ?.toLowerCase()
    .replace(/[.!]+$/, '');
  if (text === undefined || text.split(' ').length < 2 || text.split(' ').length > 25 || !g.hasWords(text))
    return undefined;
  return m.preference(text, source);
}
