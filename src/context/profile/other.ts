/**
 * Pattern-only facts: measured values (vitals, labs) and stated
 * preferences. No NLP parse is needed for either.
 */
import type { Analysis } from './analyze.ts';
import * as m from './mentions.ts';
import type { FactMention, FactSource } from './types.ts';

const VALUES: ReadonlyArray<readonly [RegExp, string, string]> = [
  [/\b(?:blood pressure|bp)\b[^.?!\d]{0,20}?(\d{2,3})\s*(?:\/|over)\s*(\d{2,3})\b/g, 'blood pressure', '$1/$2'],
  [/\b(?:hemoglobin a1c|hba1c|a1c)\b[^.?!\d]{0,20}?(\d{1,2}(?:\.\d)?)\b/g, 'a1c', '$1'],
  [/\b(?:blood sugars?|glucose|sugars?)\b[^.?!\d]{0,25}?(\d{2,3})\b(?!\s*(?:mg|units))/g, 'blood sugar', '$1'],
  [/\b(?:weight|weigh|weighs|weighed)\b[^.?!\d]{0,15}?(\d{2,3})\s*(pounds|lbs?|kg|kilograms)\b/g, 'weight', '$1 $2'],
  [/\b(?:heart rate|pulse)\b[^.?!\d]{0,15}?(\d{2,3})\b/g, 'heart rate', '$1'],
  [/\b(?:temperature|temp)\b[^.?!\d]{0,15}?(\d{2,3}(?:\.\d)?)\b/g, 'temperature', '$1'],
  [
    /\b(?:oxygen saturation|o2 sat(?:uration)?|sats?|pulse ox)\b[^.?!\d]{0,15}?(\d{2,3})\s*%?/g,
    'oxygen saturation',
    '$1%',
  ],
  [/\b(?:ldl|bad cholesterol)\b[^.?!\d]{0,15}?(\d{2,3})\b/g, 'ldl', '$1'],
  [/\b(?:total cholesterol|cholesterol)\b[^.?!\d]{0,15}?(\d{3})\b/g, 'cholesterol', '$1'],
  [/\b(?:ejection fraction|ef)\b[^.?!\d]{0,15}?(\d{2})\s*%?/g, 'ejection fraction', '$1%'],
];

/** Measured values in a sentence ("blood pressure 140/90", "a1c 7.2"), keyed by measure so newer readings replace older. */
export function valueFacts(a: Analysis, source: FactSource): FactMention[] {
  const lower = a.sentence.lower;
  if (!/\d/.test(lower)) return [];
  const out: FactMention[] = [];
  for (const [re, measure, template] of VALUES) {
    re.lastIndex = 0;
    const match = re.exec(lower);
    if (match === null) continue;
    const value = template.replace(/\$(\d)/g, (_, n: string) => match[Number(n)] ?? '');
    out.push(m.entity(`${measure} ${value}`, 'value', source, `value ${measure}`));
  }
  return out;
}

const NOT_NAMES = new Set([
  'back',
  'if',
  'when',
  'at',
  'later',
  'anytime',
  'tomorrow',
  'on',
  'with',
  'about',
  'please',
  'in',
  'and',
  'to',
  'after',
  'before',
  'again',
  'today',
  'tonight',
  'the',
  'a',
]);
const PREFERENCES: ReadonlyArray<readonly [RegExp, (m: RegExpExecArray) => string | undefined]> = [
  [/\b(?:please )?call me ([a-z]+)\b/, (x) => (NOT_NAMES.has(x[1] ?? '') ? undefined : `call me ${x[1]}`)],
  [/\bi(?: would|'d) like to be called ([a-z]+)\b/, (x) => `call me ${x[1]}`],
  [
    /\bmy preferred (name|pharmacy|language|contact|method of contact|phone) is (.+)/,
    (x) => `preferred ${x[1]}: ${x[2]}`,
  ],
  [/\bi(?: would|'d)? prefer (?:to )?(.+)/, (x) => `prefers ${x[1]}`],
  [/\bi(?: would|'d) rather (.+)/, (x) => `would rather ${x[1]}`],
  [/\bi (?:don'?t|do not) (?:really )?want (?:to )?(.+)/, (x) => `does not want ${x[1]}`],
];

/** Trim a preference to its clause: stop at punctuation or a new clause, at most 10 words. */
function trimClause(text: string): string {
  const cut = text.split(/[,.;!?]| but | because | since | so that | and then /)[0] ?? text;
  return cut.trim().split(/\s+/).slice(0, 10).join(' ');
}

/** Stated preferences in a sentence (patient-side speakers only; the caller decides). */
export function preferenceFacts(a: Analysis, source: FactSource): FactMention[] {
  if (a.sentence.question) return [];
  const lower = a.sentence.lower;
  if (!/\b(?:call me|prefer|rather|want|called)\b/.test(lower)) return [];
  for (const [re, render] of PREFERENCES) {
    const match = re.exec(lower);
    if (match === null) continue;
    const text = render(match);
    if (text === undefined) continue;
    const trimmed = trimClause(text);
    if (trimmed.split(/\s+/).length < 2) continue;
    return [m.preference(trimmed, source)];
  }
  return [];
}
