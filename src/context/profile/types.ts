/**
 * The clinical profile of one conversation: typed, versioned facts, each
 * pointing to the turns it came from.
 */

/** The turn (and speaker role) a fact was stated in. */
export interface FactSource {
  turn: number;
  role: string;
}

/** Whether a fact holds now, was stopped, was denied, or belongs to the past. */
export type FactStatus = 'active' | 'stopped' | 'negated' | 'historical';

/** Fields every fact carries: a deterministic id, provenance and review marks. */
export interface FactBase {
  /** `kind-prefix:normalised-key`, e.g. `med:metformin`; the same fact mentioned again has the same id. */
  id: string;
  sources: FactSource[];
  /** A clinician confirmed the fact. Cleared when a newer turn changes it. */
  confirmed?: boolean;
  /** A clinician corrected the fact's fields. Cleared when a newer turn contradicts the correction. */
  corrected?: boolean;
  /** The conversation turn at which the correction was made; only newer turns may override it. */
  correctedAtTurn?: number;
}

/** A medication the patient takes, took, or denies taking. */
export interface Medication extends FactBase {
  kind: 'medication';
  /** Normalised generic-ish lower-case name ("acetaminophen" for "Tylenol"); "none" for "no medications". */
  name: string;
  /** "500 mg", "2 puffs". */
  dose?: string;
  /** Normalised words: "twice daily", "as needed", "every 6 hours". */
  frequency?: string;
  /** "oral", "inhaled", "injection", ... */
  route?: string;
  status: FactStatus;
}

/** An allergy; "no known drug allergies" is one negated entry with substance "drug". */
export interface Allergy extends FactBase {
  kind: 'allergy';
  substance: string;
  reaction?: string;
  status: 'active' | 'negated';
}

/** A condition, diagnosis or symptom of the patient (never of a family member). */
export interface Condition extends FactBase {
  kind: 'condition';
  name: string;
  status: FactStatus;
}

/** A procedure the patient had (or, with status "negated", never had). */
export interface Procedure extends FactBase {
  kind: 'procedure';
  name: string;
  date?: string;
  status?: 'negated';
}

/** A person in the patient's life: family (with their own conditions) or a clinician. */
export interface Person extends FactBase {
  kind: 'person';
  name?: string;
  /** "mother", "daughter", "family" (unspecified family history), "physician", "cardiologist", "nurse", ... */
  relation: string;
  /** Conditions of this person (family history), never the patient's; "no X" for a denied one. */
  conditions: string[];
  deceased?: boolean;
}

/** A date mentioned in the conversation, with what it is about. */
export interface DateFact extends FactBase {
  kind: 'date';
  text: string;
  /** ISO date when the text is absolute (has a year) or the turn's time was given. */
  iso?: string;
  /** Short phrase saying what the date is about ("appendectomy", "last visit"). */
  context: string;
}

/** A stated preference ("prefers morning appointments", "call me Bob"). */
export interface Preference extends FactBase {
  kind: 'preference';
  text: string;
}

/** Another named entity: organization, place, person name, measured value. */
export interface Entity extends FactBase {
  kind: 'entity';
  text: string;
  type: string;
}

/** Any profile fact. */
export type Fact = Medication | Allergy | Condition | Procedure | Person | DateFact | Preference | Entity;

/** The kind tag of a fact. */
export type FactKind = Fact['kind'];

/** The typed, versioned profile of a conversation. */
export interface Profile {
  /** +1 on every update that changes a fact. */
  version: number;
  medications: Medication[];
  allergies: Allergy[];
  conditions: Condition[];
  procedures: Procedure[];
  people: Person[];
  dates: DateFact[];
  preferences: Preference[];
  entities: Entity[];
  /** Retracted fact ids and the turn of the retraction: only newer turns may re-add them. */
  retracted?: Record<string, number>;
}

/** The profile array that holds each kind of fact. */
export const SECTION_OF = {
  medication: 'medications',
  allergy: 'allergies',
  condition: 'conditions',
  procedure: 'procedures',
  person: 'people',
  date: 'dates',
  preference: 'preferences',
  entity: 'entities',
} as const satisfies Record<FactKind, keyof Profile>;

/** The id prefix of each kind of fact. */
export const ID_PREFIX = {
  medication: 'med',
  allergy: 'allergy',
  condition: 'condition',
  procedure: 'procedure',
  person: 'person',
  date: 'date',
  preference: 'pref',
  entity: 'entity',
} as const satisfies Record<FactKind, string>;

/** A new, empty profile at version 0. */
export const emptyProfile = (): Profile => ({
  version: 0,
  medications: [],
  allergies: [],
  conditions: [],
  procedures: [],
  people: [],
  dates: [],
  preferences: [],
  entities: [],
});

/** Normalise a key for an id: lower case, spaces to `-`, other symbols dropped. */
export function slugKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^a-z0-9/.%]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The deterministic id of a fact: kind prefix + normalised key. */
export function factId(kind: FactKind, key: string): string {
  return `${ID_PREFIX[kind]}:${slugKey(key)}`;
}

/** One turn as the extractor sees it. `at` (ISO time of the turn) lets relative dates resolve. */
export interface TurnInput {
  number: number;
  role: string;
  text: string;
  at?: string;
}

type MentionOf<F extends Fact> = Omit<F, 'id' | 'sources' | 'confirmed' | 'corrected' | 'correctedAtTurn'> & {
  id: string;
  /** The normalised key the id was made from. */
  key: string;
  source: FactSource;
  /** The status came from an explicit cue ("stopped", "started", "denies"), so it may change a known fact. */
  explicit: boolean;
};

/** One mention of a fact in one turn, as found by `extractFacts`. */
export type FactMention =
  | MentionOf<Medication>
  | MentionOf<Allergy>
  | MentionOf<Condition>
  | MentionOf<Procedure>
  | MentionOf<Person>
  | MentionOf<DateFact>
  | MentionOf<Preference>
  | MentionOf<Entity>;
