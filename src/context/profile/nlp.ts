/**
 * Named entities and dates via compromise (+ compromise-dates). Parsing is
 * the expensive step (≈1–10 ms a sentence), so it runs only on sentences
 * whose words suggest a date, a name, an organization or a place.
 */
import nlp from 'compromise';
import datesPlugin from 'compromise-dates';
import type { Analysis } from './analyze.ts';
import * as m from './mentions.ts';
import type { FactMention, FactSource } from './types.ts';

interface TextItem {
  text: string;
}
interface DateItem extends TextItem {
  dates?: { start?: string | null };
}
interface NlpDoc {
  people(): { json(): TextItem[] };
  organizations(): { json(): TextItem[] };
  places(): { json(): TextItem[] };
  dates(opts: { timezone: string; today: string }): { json(): DateItem[] };
}

let registered = false;
function parse(text: string): NlpDoc {
  if (!registered) {
    nlp.plugin(datesPlugin);
    registered = true;
  }
  return nlp(text) as unknown as NlpDoc;
}

const MONTH =
  '(?:jan(?:uary)?|feb(?:ruary)?|march|apr(?:il)?|june|july|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
const DATE_TRIGGER = new RegExp(
  `\\b(?:${MONTH}|(?:in|on|since|of|until|by) may|may \\d|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|tomorrow|\\d+ (?:days?|weeks?|months?|years?) ago|(?:a|few|couple of) (?:days?|weeks?|months?|years?) ago|last (?:week|month|year|night|weekend|summer|winter|spring|fall)|next (?:week|month|year)|(?:19|20)\\d\\d(?!\\s*(?:mg|mcg|units?|iu|ml|calories|steps))|\\d{1,2}/\\d{1,2}/\\d{2,4})\\b`,
);
const DATE_TRIGGER_G = new RegExp(DATE_TRIGGER.source, 'g');
const YEAR = /\b(?:19|20)\d\d\b/;
const ORG_TRIGGER =
  /\b(?:hospital|clinic|pharmacy|medical center|health center|university|college|walgreens|cvs|walmart|rite aid|kaiser|mayo|urgent care|nursing home|rehab center|insurance|medicare|medicaid)\b|\b(?:live in|lives in|living in|moved (?:here )?from|moved to|trip to|travel(?:l?ed|ing)? to|vacation in|grew up in|originally from|i'?m from)\b/;
const GENERIC = new Set(['i', 'dr', 'doctor', 'nurse', 'mr', 'mrs', 'ms', 'miss', 'sir', 'okay', 'dax', 'dragon']);

/**
 * Offsets of capitalised words that are not the sentence's first, "I", or a
 * lexicon term: at most two, far enough apart to need their own window.
 */
function properNouns(a: Analysis): number[] {
  const words = [...a.sentence.cased.matchAll(/\S+/g)];
  const out: number[] = [];
  let lastWord = Number.NEGATIVE_INFINITY;
  for (let i = 1; i < words.length && out.length < 2; i++) {
    const w = (words[i]?.[0] ?? '').replace(/[^A-Za-z'-]/g, '');
    if (!/^[A-Z][a-z]/.test(w) || GENERIC.has(w.toLowerCase())) continue;
    const prev = words[i - 1]?.[0] ?? '';
    if (/[.!?:]$/.test(prev) && !/^(?:Dr|Mr|Mrs|Ms)\.$/.test(prev)) continue;
    const lw = w.toLowerCase();
    if (a.terms.some((t) => a.tokens.slice(t.start, t.end).some((k) => k.text === lw))) continue;
    if (i - lastWord > 5) out.push(words[i]?.index ?? 0);
    lastWord = i;
  }
  return out;
}

function clean(text: string): string {
  return text.replace(/^[\s,.;:'"-]+|[\s,.;:'"!?-]+$/g, '').replace(/\s+/g, ' ');
}

const FILLER_WORDS = new Set(
  "uh um so and okay ok yeah well i i'm i've you we it it's that the a an to of was is be been just like about then".split(
    ' ',
  ),
);

/** What a date in the sentence is about: the nearest clinical term, else the sentence's opening words. */
function dateContext(a: Analysis, dateText: string): string {
  const at = a.sentence.lower.indexOf(dateText.toLowerCase());
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const t of a.terms) {
    const name =
      t.senses.procedure ?? t.senses.condition ?? t.senses.medication ?? t.senses.drugClass ?? t.senses.family;
    if (name === undefined) continue;
    const d = Math.abs((a.tokens[t.start]?.start ?? 0) - Math.max(at, 0));
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  if (best !== undefined) return best;
  const words = a.sentence.lower.replace(dateText.toLowerCase(), ' ').match(/[a-z']+/g) ?? [];
  return words
    .filter((w) => !FILLER_WORDS.has(w))
    .slice(0, 4)
    .join(' ');
}

const dateCache = new Map<string, DateItem[]>();

/**
 * compromise-dates recompiles its match patterns on every call (≈5–15 ms),
 * so results are cached per window and reference day; phrases such as
 * "a few weeks ago" recur.
 */
function parseDates(window: string, today: string): DateItem[] {
  const key = `${today.slice(0, 10)}\u0000${window}`;
  let items = dateCache.get(key);
  if (items === undefined) {
    items = parse(window).dates({ timezone: 'UTC', today }).json();
    if (dateCache.size >= 512) dateCache.delete(dateCache.keys().next().value as string);
    dateCache.set(key, items);
  }
  return items;
}

/** The words around a character offset: compromise's cost grows with its input, so it only sees this window. */
function windowAround(text: string, at: number, before = 5, after = 6): string {
  const words = [...text.matchAll(/\S+/g)];
  let i = words.findIndex((w) => (w.index ?? 0) + w[0].length > at);
  if (i < 0) i = words.length - 1;
  return words
    .slice(Math.max(0, i - before), i + after + 1)
    .map((w) => w[0])
    .join(' ');
}

/** Up to `max` windows around the matches of a global pattern, merged when they overlap. */
function windows(text: string, re: RegExp, max = 2): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(re)) {
    const w = windowAround(text, match.index);
    const last = out.at(-1);
    if (last !== undefined && (last.includes(w) || w.includes(last))) continue;
    out.push(w);
    if (out.length >= max) break;
  }
  return out;
}

function dateFacts(a: Analysis, source: FactSource, at: string | undefined): FactMention[] {
  const out: FactMention[] = [];
  const seen = new Set<string>();
  for (const w of windows(a.sentence.lower, DATE_TRIGGER_G)) {
    for (const d of parseDates(w, at ?? '2000-01-01T00:00:00.000Z')) {
      const text = clean(d.text);
      if (text === '' || seen.has(text) || !DATE_TRIGGER.test(text)) continue;
      seen.add(text);
      const start = d.dates?.start ?? undefined;
      const iso = start && (at !== undefined || YEAR.test(text)) ? start.slice(0, 10) : undefined;
      out.push(m.date(text, dateContext(a, text), source, iso));
    }
  }
  return out;
}

function nameFacts(a: Analysis, source: FactSource, cased: boolean, at: number): FactMention[] {
  const text = cased ? a.sentence.cased : a.sentence.lower;
  const doc = parse(windowAround(text, at, 4, 5));
  const out: FactMention[] = [];
  const lower = a.sentence.lower;
  const relations = a.terms.filter((t) => t.senses.family !== undefined);
  for (const p of doc.people().json()) {
    const name = clean(p.text);
    const lowerName = name.toLowerCase();
    if (name.length < 2 || /^(?:dr|doctor|nurse)\b/i.test(name) || GENERIC.has(lowerName)) continue;
    const pos = lower.indexOf(lowerName);
    const rel = relations.find((r) => {
      const end = a.tokens[r.end - 1]?.end ?? 0;
      return pos >= end && pos - end <= 3;
    });
    if (rel !== undefined) out.push(m.person(rel.senses.family as string, source, { name }));
    else if (cased) out.push(m.entity(name, 'person', source));
  }
  for (const [items, type] of [
    [doc.organizations().json(), 'organization'],
    [doc.places().json(), 'place'],
  ] as const) {
    for (const o of items) {
      const t = clean(o.text);
      if (t.length < 3 || GENERIC.has(t.toLowerCase())) continue;
      out.push(m.entity(t, type, source, `${type} ${t.toLowerCase()}`));
    }
  }
  return out;
}

/**
 * Dates, names, organizations and places of one sentence. compromise runs
 * only when a trigger matches, and only on the few words around it.
 */
export function nlpFacts(a: Analysis, source: FactSource, opts: { at?: string; cased: boolean }): FactMention[] {
  const lower = a.sentence.lower;
  const out: FactMention[] = DATE_TRIGGER.test(lower) ? dateFacts(a, source, opts.at) : [];
  const proper = opts.cased ? properNouns(a) : [];
  const org = ORG_TRIGGER.exec(lower);
  if (proper.length === 0 && org !== null) proper.push(org.index);
  const seen = new Set<string>();
  for (const at of proper) {
    for (const f of nameFacts(a, source, opts.cased, at)) {
      if (seen.has(f.id)) continue;
      seen.add(f.id);
      out.push(f);
    }
  }
  return out;
}
