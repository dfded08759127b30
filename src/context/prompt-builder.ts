/**
 * The prompt builder: turns a working context into the message list a model
 * receives, fitted to a token budget by dropping the least useful parts first
 * and never splitting a turn.
 */
import { countMessageTokens, countOneMessageTokens, countTokens, MESSAGE_OVERHEAD_TOKENS } from './tokens.ts';

/** A conversation turn as the prompt builder takes it. */
export interface PromptTurn {
  number: number;
  role: 'user' | 'clinician' | 'assistant' | 'system';
  content: string;
}

/** Everything a prompt is built from. */
export interface PromptInput {
  systemPrompt: string;
  /** Profile text, one fact per line, most important first (lines are dropped from the end). */
  profileText: string;
  /** Rolling summary text, in conversation order (sentences are dropped from the start). */
  summaryText: string;
  /** Older turns relevant to the next message, in rank order, best first (as `ConversationIndex.search` returns). */
  retrieved: PromptTurn[];
  /** The most recent turns (any order; they are sorted by number). */
  recent: PromptTurn[];
  /** The message about to be answered, sent last as a user message. */
  nextMessage?: string;
  /** Token budget for the whole message list, as counted by `countMessageTokens`. */
  budgetTokens: number;
}

/** A built prompt: the messages, their real token count, and what was left out to fit. */
export interface BuiltPrompt {
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
  /** `countMessageTokens(messages)`; above the budget only when the parts that are always kept do not fit. */
  tokens: number;
  /** In the order they were dropped; one entry per turn, summary sentence or profile line. */
  dropped: { kind: 'retrieved' | 'recent' | 'summary' | 'profile'; turn?: number }[];
}

type Message = BuiltPrompt['messages'][number];
type Kind = BuiltPrompt['dropped'][number]['kind'];

/** Headers of the system blocks (exported so tests and docs can find them). */
export const PROMPT_HEADERS = {
  profile: 'Patient profile:',
  summary: 'Summary of the conversation so far:',
  retrieved: 'Earlier relevant turns (numbered as in this conversation):',
} as const;

const SPEAKER: Record<PromptTurn['role'], string> = {
  user: 'User',
  clinician: 'Clinician',
  assistant: 'Assistant',
  system: 'System',
};
/** Recent turns the builder never drops: the latest message and the one before it. */
export const ALWAYS_KEPT_RECENT = 2;
type BlockKind = 'profile' | 'summary' | 'retrieved';

interface Unit {
  kind: Kind;
  turn?: number;
  /** Separator before this unit when it is not the first kept unit of its block. */
  sep: string;
  text: string;
  /** For a recent turn, its message. */
  message?: Message;
  /** Estimated tokens; the final count is always exact. */
  cost: number;
}

/**
 * Build the message list: the system prompt; a system block with the
 * profile; one with the summary; one with the retrieved turns (in turn
 * order, each marked `[turn N] Speaker:`); the recent turns as user/assistant
 * messages (user and clinician → `user`, the clinician's prefixed
 * `Clinician: `; assistant → `assistant`; system → `system`); then the next
 * message as `user`. Empty parts are left out; a retrieved turn that is also
 * in `recent` is left out of the retrieved block.
 *
 * Over budget, it drops, in this order: retrieved turns from the worst rank
 * up; recent turns from the oldest, always keeping the last 2; summary
 * sentences from the oldest; profile lines from the last. The system prompt,
 * the last 2 recent turns and the next message are always kept; if they
 * alone exceed the budget, everything else is dropped and
 * `tokens > budgetTokens` (the caller decides whether to refuse). Turns are
 * never split.
 *
 * @example
 * const prompt = buildPrompt({ systemPrompt, profileText, summaryText, retrieved, recent, nextMessage, budgetTokens: 4000 });
 * if (prompt.tokens > 4000) throw new Error('the latest turns alone exceed the context budget');
 */
export function buildPrompt(input: PromptInput): BuiltPrompt {
  const budget = input.budgetTokens;
  if (!Number.isInteger(budget) || budget <= 0) {
    throw new TypeError(`budgetTokens must be a positive integer (got ${String(budget)})`);
  }
  for (const t of [...input.retrieved, ...input.recent]) {
    if (!Object.hasOwn(SPEAKER, t.role)) throw new TypeError(`unknown turn role ${JSON.stringify(t.role)}`);
  }
  const recent = [...input.recent].sort((a, b) => a.number - b.number);
  const seen = new Set(recent.map((t) => t.number));
  const retrieved: PromptTurn[] = [];
  for (const t of input.retrieved) {
    if (seen.has(t.number)) continue;
    seen.add(t.number);
    retrieved.push(t);
  }

  const profileCut = cutOf('profile', input.profileText);
  const summaryCut = cutOf('summary', input.summaryText);
  const profile = profileCut.units;
  const summary = summaryCut.units;
  const retrievedByRank = retrieved.map((t): Unit => {
    const text = retrievedLine(t);
    return { kind: 'retrieved', turn: t.number, sep: '\n', text, cost: retrievedTurnTokens(t) };
  });
  const retrievedByTurn = [...retrievedByRank].sort((a, b) => a.turn! - b.turn!);
  const cut = Math.max(0, recent.length - ALWAYS_KEPT_RECENT);
  const olderRecent = recent.slice(0, cut).map((t): Unit => {
    const message = toMessage(t);
    return { kind: 'recent', turn: t.number, sep: '', text: '', message, cost: countOneMessageTokens(message) };
  });
  const lastRecent = recent.slice(cut).map(toMessage);

  // Drop order: worst-ranked retrieved, oldest recent, oldest summary sentence, last profile line.
  const order: Unit[] = [...[...retrievedByRank].reverse(), ...olderRecent, ...summary, ...[...profile].reverse()];

  // The retrieved block's exact count, summed from counts of its lines (see retrievedBlockTokens).
  const blockCounts = new Map<string, number>();
  const countList = (messages: Message[]): number => countMessageTokens(messages, blockCounts);
  const assemble = (k: number): Message[] => {
    const gone = new Set(order.slice(0, k));
    const messages: Message[] = [];
    if (input.systemPrompt.length > 0) messages.push({ role: 'system', content: input.systemPrompt });
    block(messages, 'profile', profile, gone, profileCut.whole);
    block(messages, 'summary', summary, gone, summaryCut.whole);
    const kept = retrievedByTurn.filter((u) => !gone.has(u));
    if (block(messages, 'retrieved', kept, gone)) {
      blockCounts.set(messages.at(-1)!.content, retrievedBlockTokens(kept.map((u) => u.text)));
    }
    for (const u of olderRecent) if (!gone.has(u)) messages.push(u.message!);
    messages.push(...lastRecent);
    if (input.nextMessage) messages.push({ role: 'user', content: input.nextMessage });
    return messages;
  };

  // Estimate with additive per-unit costs to find the cut quickly, then settle it on exact counts.
  const remaining = new Map<Kind, number>();
  for (const u of order) remaining.set(u.kind, (remaining.get(u.kind) ?? 0) + 1);
  let estimate = countList(assemble(order.length));
  for (const u of order) estimate += u.cost;
  for (const kind of ['profile', 'summary', 'retrieved'] as const) if (remaining.get(kind)) estimate += framing(kind);
  let k = 0;
  while (estimate > budget && k < order.length) {
    const u = order[k++]!;
    estimate -= u.cost;
    const left = (remaining.get(u.kind) ?? 1) - 1;
    remaining.set(u.kind, left);
    if (left === 0 && u.kind !== 'recent') estimate -= framing(u.kind);
  }
  let messages = assemble(k);
  let tokens = countList(messages);
  while (tokens > budget && k < order.length) {
    messages = assemble(++k);
    tokens = countList(messages);
  }
  // The estimate may overshoot by a token or two at block joins: take back what still fits.
  for (let tries = 0; tries < 3 && k > 0; tries++) {
    const fewer = assemble(k - 1);
    const fewerTokens = countList(fewer);
    if (fewerTokens > budget) break;
    k--;
    messages = fewer;
    tokens = fewerTokens;
  }
  const dropped = order
    .slice(0, k)
    .map((u) => (u.turn === undefined ? { kind: u.kind } : { kind: u.kind, turn: u.turn }));
  return { messages, tokens, dropped };
}

/**
 * Do now what a build over this profile and summary does first: cut them into units (each profile line and
 * summary sentence, counted) and count both blocks whole. The cuts are kept and the counts go to the
 * token-count cache, so the next build (on the path to a reply's first delta) finds them instead of running
 * the tokenizer over the summary again. Changes no result; call it where a state has just changed, off the
 * request path.
 */
export function warmPromptCounts(profileText: string, summaryText: string): void {
  for (const cut of [cutOf('profile', profileText), cutOf('summary', summaryText)]) {
    if (cut.whole !== undefined) countTokens(cut.whole);
  }
}

/** A profile or summary text cut into its units, with its whole block (every unit kept) made once. */
interface Cut {
  readonly units: readonly Unit[];
  /** The block's message content with every unit kept; undefined when the text has no unit. */
  readonly whole: string | undefined;
}

/** Texts whose cuts are kept, per kind: a state's profile and summary texts come back build after build. */
const MAX_CUTS = 512;
const cuts = { profile: new Map<string, Cut>(), summary: new Map<string, Cut>() };

/** Forget the cut profile and summary texts (they hold patient text in memory, as the token-count cache does). */
export function clearPromptCuts(): void {
  cuts.profile.clear();
  cuts.summary.clear();
}

/**
 * The units of a profile or summary text and its whole block, made once per text. A conversation's state
 * hands the builder the same strings until it changes, so a build after {@link warmPromptCounts} neither
 * splits, joins nor hashes them again (a string keeps its hash once one was computed). Units are never
 * changed after they are made, so builds can share them.
 */
function cutOf(kind: 'profile' | 'summary', text: string): Cut {
  const cache = cuts[kind];
  let cut = cache.get(text);
  if (cut === undefined) {
    const units = kind === 'profile' ? profileUnits(text) : sentenceUnits(text);
    cut = { units, whole: blockText(kind, units, new Set()) };
    if (cache.size >= MAX_CUTS) cache.delete(cache.keys().next().value as string);
    cache.set(text, cut);
  }
  return cut;
}

function unit(kind: Kind, sep: string, text: string, turn?: number): Unit {
  const cost = countTokens(sep + text);
  return turn === undefined ? { kind, sep, text, cost } : { kind, sep, text, cost, turn };
}

/**
 * Tokens a turn costs in the retrieved block of the prompt: its `[turn N] Speaker:` line and the line
 * break after it. Exact for every line of the block but its last, which has no line break after it.
 */
export function retrievedTurnTokens(turn: PromptTurn): number {
  return countTokens(`${retrievedLine(turn)}\n`);
}

/**
 * The exact tokens of the retrieved block's text (its header, then `lines` joined by line breaks), summed
 * from counts of its parts, so that the block itself (new with every query) is never run through the
 * tokenizer: `count(header + "\n") + count(line₁ + "\n") + … + count(lineₙ)`, each part of which the
 * token-count cache keeps. Exact because every line starts with `[`: the tokenizer's pre-tokenizing split
 * (o200k_base) ends a piece at a line break followed by anything but whitespace, `/` or another line break,
 * and never looks behind, so the pieces of the whole text are the pieces of its parts, and BPE runs per piece.
 */
export function retrievedBlockTokens(lines: readonly string[]): number {
  let total = countTokens(`${PROMPT_HEADERS.retrieved}\n`);
  lines.forEach((line, i) => {
    total += countTokens(i === lines.length - 1 ? line : `${line}\n`);
  });
  return total;
}

function retrievedLine(t: PromptTurn): string {
  return `[turn ${t.number}] ${SPEAKER[t.role]}: ${t.content}`;
}

/** Tokens a turn costs as a recent message of the prompt (framing and speaker prefix included). */
export function promptTurnTokens(turn: PromptTurn): number {
  return countOneMessageTokens(toMessage(turn));
}

function toMessage(t: PromptTurn): Message {
  if (t.role === 'clinician') return { role: 'user', content: `${SPEAKER.clinician}: ${t.content}` };
  return { role: t.role, content: t.content };
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim().length > 0);
}

/** Profile units are its lines, joined with "\n". */
function profileUnits(text: string): Unit[] {
  return lines(text).map((line) => unit('profile', '\n', line));
}

/**
 * Summary units are sentences; the first of a line joins with "\n", the others
 * with " ". A sentence followed by another speaker's label ("...pain? Patient:
 * no.") stays with it: a question and its answer go together.
 */
function sentenceUnits(text: string): Unit[] {
  return lines(text).flatMap((line) =>
    line
      .split(/(?<=[.!?])\s+(?!\p{Lu}[\p{L}' ]{0,24}: )(?=\S)/u)
      .map((s, i) => unit('summary', i === 0 ? '\n' : ' ', s)),
  );
}

/** Add the block of the units not gone, if any; true when it was added. `whole`: the block when none is gone. */
function block(
  messages: Message[],
  kind: BlockKind,
  units: readonly Unit[],
  gone: ReadonlySet<Unit>,
  whole?: string,
): boolean {
  const allKept = whole !== undefined && (gone.size === 0 || !units.some((u) => gone.has(u)));
  const content = allKept ? whole : blockText(kind, units, gone);
  if (content === undefined) return false;
  messages.push({ role: 'system', content });
  return true;
}

/** A block's message content (its header, then the units not gone), or undefined when every unit is gone. */
function blockText(kind: BlockKind, units: readonly Unit[], gone: ReadonlySet<Unit>): string | undefined {
  let body = '';
  for (const u of units) if (!gone.has(u)) body += body === '' ? u.text : u.sep + u.text;
  return body === '' ? undefined : `${PROMPT_HEADERS[kind]}\n${body}`;
}

/** Tokens of a block's message framing and header, on top of its units. */
function framing(kind: Kind): number {
  if (kind === 'recent') return 0;
  return MESSAGE_OVERHEAD_TOKENS + countTokens('system') + countTokens(PROMPT_HEADERS[kind]);
}
