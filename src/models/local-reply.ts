/**
 * The offline responder's text: read back the working context the prompt
 * builder put in the system messages and answer the last user message with
 * templated sentences. Pure and deterministic.
 */
import { PROMPT_HEADERS } from '../context/prompt-builder.ts';
import type { ModelMessage } from './port.ts';

/** One profile line: its label ("Medications") and its items. Unlabelled lines have label ''. */
export interface ProfileLine {
  label: string;
  items: string[];
}

/** What the offline responder understood of a prompt. */
export interface ParsedPrompt {
  profile: ProfileLine[];
  summary: string;
  /** The retrieved earlier turns, `[turn N] Speaker: text`. */
  earlier: { turn: number; speaker: string; text: string }[];
  /** The last user message ('' when there is none). */
  question: string;
}

const MAX_ITEMS = 8;
const MAX_QUOTE_CHARS = 200;
const OVERVIEW_LINES = 3;

const TOPICS = [
  {
    label: /medic|drug|prescri|\bmeds\b/i,
    asked:
      /\b(medic\w*|meds?|drugs?|pills?|tablets?|capsules?|doses?|dosage|dosing|prescri\w*|refills?|inhalers?|insulin)\b/i,
  },
  { label: /allerg/i, asked: /\b(allerg\w*|reactions?|intoleran\w*)\b/i },
  {
    label: /condition|diagnos|problem|history/i,
    asked: /\b(conditions?|diagnos\w*|diseases?|illness\w*|problems?)\b/i,
  },
  { label: /procedure|surger/i, asked: /\b(procedures?|surger\w*|operations?|operated)\b/i },
  { label: /family|relative|people/i, asked: /\b(family|mother|father|sister|brother|parents?|relatives?)\b/i },
] as const;

const INTENT_TOPIC: Record<string, number> = { medication: 0, allergy: 1, condition: 2 };

const STOP_WORDS = new Set(
  'about above after again also been before being could does doing from have having here into just like more most much only other over same should some such than that their them then there these they this those through very what when where which while will with would your yours'.split(
    ' ',
  ),
);

/** Read the blocks of a prompt built by `buildPrompt`. */
export function parsePrompt(messages: readonly ModelMessage[]): ParsedPrompt {
  const parsed: ParsedPrompt = { profile: [], summary: '', earlier: [], question: '' };
  for (const m of messages) {
    if (m.role !== 'system') continue;
    const body = blockBody(m.content, PROMPT_HEADERS.profile);
    if (body !== undefined) parsed.profile.push(...body.split('\n').flatMap(profileLine));
    const summary = blockBody(m.content, PROMPT_HEADERS.summary);
    if (summary !== undefined) parsed.summary = summary.trim();
    const retrieved = blockBody(m.content, PROMPT_HEADERS.retrieved);
    if (retrieved !== undefined) {
      for (const line of retrieved.split('\n')) {
        const match = /^\[turn (\d+)\] ([^:]+): (.*)$/.exec(line.trim());
        if (match) parsed.earlier.push({ turn: Number(match[1]), speaker: match[2]!, text: match[3]! });
      }
    }
  }
  const lastUser = messages.findLast((m) => m.role === 'user');
  parsed.question = lastUser?.content.trim() ?? '';
  return parsed;
}

/**
 * Compose the reply: acknowledge the question, restate what is on record that
 * bears on it (or an overview of the profile), point at an earlier turn that
 * shares its words, and say what this responder is.
 */
export function composeLocalReply(messages: readonly ModelMessage[], metadata?: Record<string, string>): string {
  const prompt = parsePrompt(messages);
  const sentences: string[] = [];
  if (metadata?.['intent'] === 'emergency') {
    sentences.push(
      'If this may be an emergency, call your local emergency number or go to the nearest emergency department now.',
    );
  }
  sentences.push(acknowledge(prompt.question));

  const words = contentWords(prompt.question);
  const topics = TOPICS.filter(
    (t, i) => t.asked.test(prompt.question) || INTENT_TOPIC[metadata?.['intent'] ?? ''] === i,
  );
  const byTopic = prompt.profile.filter((line) => line.label && topics.some((t) => t.label.test(line.label)));
  const related: ProfileLine[] = [];
  for (const line of prompt.profile) {
    if (byTopic.includes(line)) continue;
    const labelMatches = line.label !== '' && sharesWord(line.label, words);
    const items = labelMatches ? line.items : line.items.filter((item) => sharesWord(item, words));
    if (items.length > 0) related.push({ label: line.label, items });
  }

  for (const line of byTopic) {
    sentences.push(
      line.items.length > 0
        ? `Your profile lists these ${line.label.toLowerCase()}: ${list(line.items)}.`
        : `Your profile has no ${line.label.toLowerCase()} on record.`,
    );
  }
  related.forEach((line, i) => {
    const where = line.label ? `, under ${line.label.toLowerCase()}` : '';
    const lead = byTopic.length > 0 || i > 0 ? 'It also records' : 'Your profile records';
    sentences.push(`${lead}${where}: ${list(line.items)}.`);
  });
  if (byTopic.length === 0 && related.length === 0) {
    if (topics.length > 0 && prompt.profile.length > 0) sentences.push('I found nothing on record about that.');
    if (prompt.profile.length > 0) {
      const overview = prompt.profile
        .slice(0, OVERVIEW_LINES)
        .map((l) => (l.label ? `${l.label}: ${list(l.items)}` : list(l.items)));
      sentences.push(`What I have on record so far: ${overview.join('. ')}.`);
    } else {
      sentences.push('I do not have any details of your health on record yet.');
    }
  }

  const earlier = bestEarlierTurn(prompt, words);
  if (earlier)
    sentences.push(
      `Earlier in this conversation (turn ${earlier.turn}), ${earlier.speaker} said: ${quoted(earlier.text)}`,
    );
  else {
    const sentence = bestSummarySentence(prompt.summary, words);
    if (sentence) sentences.push(`From the summary of our conversation: ${quoted(sentence)}`);
  }

  sentences.push(
    "I am Continuum's offline responder, not a language model: I can only restate what is on record.",
    'Please consult a clinician before making any medical decision.',
  );
  return sentences.join(' ');
}

function blockBody(content: string, header: string): string | undefined {
  return content.startsWith(`${header}\n`) ? content.slice(header.length + 1) : undefined;
}

/** "Medications: metformin 500 mg twice daily (active); lisinopril 20 mg" → label and items. */
function profileLine(raw: string): ProfileLine[] {
  const line = raw.trim().replace(/^[-*•]\s*/, '');
  if (line === '') return [];
  const match = /^([A-Za-z][A-Za-z /&-]{0,40}):\s*(.*)$/.exec(line);
  const label = match ? match[1]!.trim() : '';
  const rest = match ? match[2]! : line;
  return [{ label, items: splitItems(rest) }];
}

/** Items split on ';', or, when there is none, on commas outside parentheses. */
function splitItems(text: string): string[] {
  if (text.includes(';'))
    return text
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean);
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth = Math.max(0, depth - 1);
    if (ch === ',' && depth === 0) {
      items.push(current.trim());
      current = '';
    } else current += ch;
  }
  items.push(current.trim());
  return items.filter(Boolean);
}

function contentWords(text: string): Set<string> {
  const words = new Set<string>();
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (word.length < 4 || STOP_WORDS.has(word)) continue;
    words.add(stem(word));
  }
  return words;
}

function stem(word: string): string {
  return word.length > 4 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word;
}

function overlap(text: string, words: Set<string>): number {
  let n = 0;
  for (const w of contentWords(text)) if (words.has(w)) n++;
  return n;
}

function sharesWord(text: string, words: Set<string>): boolean {
  return words.size > 0 && overlap(text, words) > 0;
}

function bestEarlierTurn(prompt: ParsedPrompt, words: Set<string>): ParsedPrompt['earlier'][number] | undefined {
  let best: ParsedPrompt['earlier'][number] | undefined;
  let bestScore = 0;
  for (const turn of prompt.earlier) {
    const score = overlap(turn.text, words);
    if (score > bestScore) {
      best = turn;
      bestScore = score;
    }
  }
  return best && { ...best, speaker: best.speaker === 'User' ? 'you' : `the ${best.speaker.toLowerCase()}` };
}

function bestSummarySentence(summary: string, words: Set<string>): string | undefined {
  let best: string | undefined;
  let bestScore = 0;
  for (const sentence of summary.split(/(?<=[.!?])\s+/)) {
    const score = overlap(sentence, words);
    if (score > bestScore) {
      best = sentence;
      bestScore = score;
    }
  }
  return best;
}

function list(items: readonly string[]): string {
  const shown = items.slice(0, MAX_ITEMS).join('; ');
  return items.length > MAX_ITEMS ? `${shown}; and ${items.length - MAX_ITEMS} more` : shown;
}

function acknowledge(question: string): string {
  if (question === '') return 'I have no message from you to answer yet.';
  const asked =
    /\?\s*$/.test(question) ||
    /^(what|which|when|where|who|why|how|can|could|do|does|did|is|are|should|will)\b/i.test(question);
  return `You ${asked ? 'asked' : 'said'}: ${quoted(question)}`;
}

/** `"text"` followed by a full stop unless the text ends a sentence itself; long texts are cut with "…". */
function quoted(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const cut = flat.length > MAX_QUOTE_CHARS ? `${flat.slice(0, MAX_QUOTE_CHARS - 1)}…` : flat;
  return /[.!?…]$/.test(cut) ? `"${cut}"` : `"${cut}".`;
}
