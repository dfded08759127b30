/**
 * Text views of a profile: a compact block for a model prompt, and the flat
 * list of normalised fact names used for evaluation matching.
 */
import type { Allergy, Condition, Fact, Medication, Person, Profile } from './types.ts';

const CLINICIAN_RELATIONS = new Set([
  'physician',
  'cardiologist',
  'oncologist',
  'neurologist',
  'endocrinologist',
  'rheumatologist',
  'nephrologist',
  'pulmonologist',
  'gastroenterologist',
  'dermatologist',
  'psychiatrist',
  'psychologist',
  'therapist',
  'surgeon',
  'orthopedic surgeon',
  'urologist',
  'gynecologist',
  'obstetrician',
  'pediatrician',
  'ophthalmologist',
  'optometrist',
  'dentist',
  'podiatrist',
  'nurse',
  'nurse practitioner',
  'physician assistant',
  'pharmacist',
  'physical therapist',
  'allergist',
  'hematologist',
  'infectious disease specialist',
  'ent doctor',
  'anesthesiologist',
  'midwife',
  'chiropractor',
  'dietitian',
  'social worker',
  'specialist',
]);

/** Whether a person is a clinician (care team) rather than family. */
export function isClinician(p: Person): boolean {
  return CLINICIAN_RELATIONS.has(p.relation);
}

function mark(f: Fact): string {
  return f.corrected ? ' [corrected]' : f.confirmed ? ' [confirmed]' : '';
}

function medication(m: Medication): string {
  if (m.name === 'none') return `none reported${mark(m)}`;
  const parts = [m.name, m.dose, m.frequency, m.route === undefined ? undefined : `(${m.route})`].filter(Boolean);
  return `${parts.join(' ')} (${m.status})${mark(m)}`;
}

function allergy(a: Allergy): string {
  if (a.status === 'negated')
    return `${a.substance === 'drug' ? 'no known drug allergies' : `not allergic to ${a.substance}`}${mark(a)}`;
  return `${a.substance}${a.reaction === undefined ? '' : ` (${a.reaction})`}${mark(a)}`;
}

function condition(c: Condition): string {
  return `${c.name}${c.status === 'active' ? '' : ` (${c.status === 'historical' ? 'history' : c.status})`}${mark(c)}`;
}

function person(p: Person): string {
  const who =
    p.name === undefined ? p.relation : isClinician(p) ? `${p.name} (${p.relation})` : `${p.relation} ${p.name}`;
  const dead = p.deceased ? ' (deceased)' : '';
  return `${who}${dead}${p.conditions.length > 0 ? `: ${p.conditions.join(', ')}` : ''}${mark(p)}`;
}

/** One fact as the profile block shows it (without its section label). */
export function renderFact(f: Fact): string {
  switch (f.kind) {
    case 'medication':
      return medication(f);
    case 'allergy':
      return allergy(f);
    case 'condition':
      return f.status === 'negated' ? f.name : condition(f);
    case 'procedure':
      return `${f.status === 'negated' ? `no ${f.name}` : f.name}${f.date ? ` (${f.date})` : ''}${mark(f)}`;
    case 'person':
      return person(f);
    case 'date':
      return `${f.iso ?? f.text}${f.context ? ` — ${f.context}` : ''}`;
    case 'preference':
      return f.text;
    case 'entity':
      return `${f.text} (${f.type})`;
  }
}

/**
 * Render a profile as a compact text block for a model prompt, one line per
 * non-empty section, e.g.
 * `Medications: metformin 500 mg twice daily (active); lisinopril (stopped)`.
 * Denied conditions are listed together ("Denies: chest pain, fever").
 */
export function renderProfile(profile: Profile): string {
  const lines: string[] = [];
  const add = (label: string, items: string[]): void => {
    if (items.length > 0) lines.push(`${label}: ${items.join('; ')}`);
  };
  add('Medications', profile.medications.map(medication));
  add('Allergies', profile.allergies.map(allergy));
  add('Conditions', profile.conditions.filter((c) => c.status !== 'negated').map(condition));
  const denied = profile.conditions.filter((c) => c.status === 'negated').map((c) => c.name);
  if (denied.length > 0) lines.push(`Denies: ${denied.join(', ')}`);
  add(
    'Procedures',
    profile.procedures.map(
      (p) => `${p.status === 'negated' ? `no ${p.name}` : p.name}${p.date ? ` (${p.date})` : ''}${mark(p)}`,
    ),
  );
  add('Family', profile.people.filter((p) => !isClinician(p)).map(person));
  add('Care team', profile.people.filter(isClinician).map(person));
  add(
    'Dates',
    profile.dates.map((d) => `${d.iso ?? d.text}${d.context ? ` — ${d.context}` : ''}`),
  );
  add(
    'Preferences',
    profile.preferences.map((p) => p.text),
  );
  add(
    'Other',
    profile.entities.map((e) => `${e.text} (${e.type})`),
  );
  return lines.join('\n');
}

/**
 * The normalised names of the profile's medications, allergies, conditions
 * and procedures, for matching against reference notes: plain names for
 * held facts ("metformin", "penicillin", "hypertension"), "no X" for denied
 * ones, "no medications" and "no known drug allergies" for the blanket
 * denials, and "family history of X" for relatives' conditions.
 */
export function profileFactsText(profile: Profile): string[] {
  const out = new Set<string>();
  for (const m of profile.medications)
    out.add(m.name === 'none' ? 'no medications' : m.status === 'negated' ? `no ${m.name}` : m.name);
  for (const a of profile.allergies) {
    if (a.status === 'active') out.add(a.substance);
    else out.add(a.substance === 'drug' ? 'no known drug allergies' : `no ${a.substance} allergy`);
  }
  for (const c of profile.conditions) out.add(c.status === 'negated' ? `no ${c.name}` : c.name);
  for (const p of profile.procedures) out.add(p.status === 'negated' ? `no ${p.name}` : p.name);
  for (const p of profile.people) {
    if (isClinician(p)) continue;
    for (const c of p.conditions) if (!c.startsWith('no ')) out.add(`family history of ${c}`);
  }
  return [...out];
}
