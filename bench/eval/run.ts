/**
 * One evaluation run: replay every conversation of a data file, score each
 * final working context, and aggregate (docs/EVALUATION.md).
 */
import { buildPrompt } from '../../src/context/prompt-builder.ts';
import { TOKEN_ENCODING } from '../../src/context/tokens.ts';
import { type LatencySummary, median, summarize } from '../lib/stats.ts';
import { meanParts, type TokenParts, tokenParts } from './breakdown.ts';
import type { EvalConversation } from './dataset.ts';
import { dialogueText, FACT_KINDS, type FactKind, goldFacts, referenceParts } from './gold.ts';
import type { GoldLexicon } from './gold-lexicon.ts';
import { Haystack } from './normalize.ts';
import { CLOCK_START, CONVERSATION_GAP_MS, Replayer, TURN_GAP_MS } from './replay.ts';
import { precisionOf, recallOf } from './score.ts';

/** Conversations longer than this many turns count for size reduction (§6). */
export const LONG_CONVERSATION_TURNS = 40;
/** `GET …/context` is timed after every turn for this many conversations from the start of the file (§7). */
export const CONTEXT_TIMED_CONVERSATIONS = 20;
/** Misses and unsupported facts listed in the results. */
const TOP = 20;

/** Scores of one conversation (deterministic). */
export interface ConversationScore {
  id: string;
  turns: number;
  transcriptTokens: number;
  contextTokens: number;
  /** 1 − context ÷ transcript; only for conversations over {@link LONG_CONVERSATION_TURNS} turns. */
  sizeReduction?: number;
  /** Where the context's tokens go; with `sizeReduction` only. */
  contextParts?: TokenParts;
  gold: number;
  recalled: number;
  /** Gold facts missed by profile and summary, as `kind:canonical`. */
  missed: string[];
  extracted: number;
  supported: number;
  /** Extracted facts supported by neither note nor dialogue, as `kind:name`. */
  unsupported: string[];
}

interface Ratio {
  n: number;
  of: number;
  value: number;
}

/** A frequent miss (or unsupported fact) with up to 3 example conversations. */
export interface Frequent {
  fact: string;
  count: number;
  examples: string[];
}

/** Everything that must be identical on a re-run. */
export interface Scores {
  conversations: number;
  turns: number;
  sizeReduction: {
    conversations: number;
    mean: number;
    median: number;
    min: number;
    pooled: number;
    meanTranscriptTokens: number;
    meanContextTokens: number;
    meanContextParts: TokenParts;
  } | null;
  recall: Ratio & { byKind: Record<FactKind, Ratio>; contextRecall: Ratio; conversationsWithGold: number };
  precision: Ratio & { byKind: Record<FactKind, Ratio>; noteSupport: Ratio; noneMarkers: number };
  topMissed: Frequent[];
  topUnsupported: Frequent[];
}

/** Wall-clock figures (machine-dependent). */
export interface Timing {
  append: LatencySummary;
  contextBuild: LatencySummary & { conversations: number };
  finalContext: LatencySummary;
  replaySeconds: number;
}

/** Settings the scores depend on. */
export interface RunSettings {
  contextTokens: number;
  contextRecentMessages: number;
  contextRecentTokens: number;
  contextRetrievedTokens: number;
  contextMaxAgeSeconds: number;
  summaryMaxWords: number;
  tokenizer: string;
  clockStart: string;
  turnGapMs: number;
  conversationGapMs: number;
  longConversationTurns: number;
  contextTimedConversations: number;
}

export interface RunOutput {
  scores: Scores;
  timing: Timing;
  settings: RunSettings;
  conversations: ConversationScore[];
}

const ratio = (n: number, of: number): Ratio => ({ n, of, value: of === 0 ? Number.NaN : n / of });

/** Full-transcript tokens (§6): every turn as a recent turn, nothing else, no budget limit. */
export function transcriptTokens(conversation: EvalConversation): number {
  return buildPrompt({
    systemPrompt: '',
    profileText: '',
    summaryText: '',
    retrieved: [],
    recent: conversation.turns.map((t, i) => ({ number: i + 1, role: t.role, content: t.text })),
    budgetTokens: Number.MAX_SAFE_INTEGER,
  }).tokens;
}

function frequent(lists: { id: string; facts: string[] }[]): Frequent[] {
  const counts = new Map<string, Frequent>();
  for (const { id, facts } of lists) {
    for (const fact of facts) {
      const entry = counts.get(fact) ?? { fact, count: 0, examples: [] };
      entry.count++;
      if (entry.examples.length < 3) entry.examples.push(id);
      counts.set(fact, entry);
    }
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || a.fact.localeCompare(b.fact)).slice(0, TOP);
}

/** Replay and score `conversations`; `progress` is told after each one. */
export async function runEvaluation(
  conversations: readonly EvalConversation[],
  lexicon: GoldLexicon,
  progress: (done: number, total: number) => void = () => {},
): Promise<RunOutput> {
  const replayer = await Replayer.open();
  const appendMs: number[] = [];
  const contextMs: number[] = [];
  const finalMs: number[] = [];
  const rows: ConversationScore[] = [];
  const recallCounts = { byKind: new Map<FactKind, [number, number]>(), inContext: 0 };
  const precisionCounts = { byKind: new Map<FactKind, [number, number]>(), noteSupported: 0, markers: 0 };
  const started = performance.now();
  try {
    for (const [index, conversation] of conversations.entries()) {
      const timed = index < CONTEXT_TIMED_CONVERSATIONS;
      const replayed = await replayer.replay(conversation, timed);
      appendMs.push(...replayed.appendMs);
      contextMs.push(...replayed.contextMs);
      finalMs.push(replayed.finalContextMs);

      const dialogue = new Haystack(dialogueText(conversation.turns));
      const parts = referenceParts(conversation.reference, conversation.meta);
      const gold = goldFacts(lexicon, parts, dialogue);
      const recall = recallOf(gold, replayed.context);
      const precision = precisionOf(lexicon, replayed.context.profile, new Haystack(parts.all), dialogue);
      for (const item of recall) {
        const counts = recallCounts.byKind.get(item.kind) ?? [0, 0];
        recallCounts.byKind.set(item.kind, [counts[0] + (item.recalled ? 1 : 0), counts[1] + 1]);
        if (item.inContext) recallCounts.inContext++;
      }
      for (const item of precision.items) {
        const counts = precisionCounts.byKind.get(item.kind) ?? [0, 0];
        precisionCounts.byKind.set(item.kind, [counts[0] + (item.supported ? 1 : 0), counts[1] + 1]);
        if (item.noteSupported) precisionCounts.noteSupported++;
      }
      precisionCounts.markers += precision.markers;

      const transcript = transcriptTokens(conversation);
      const row: ConversationScore = {
        id: conversation.id,
        turns: conversation.turns.length,
        transcriptTokens: transcript,
        contextTokens: replayed.context.tokens,
        gold: gold.length,
        recalled: recall.filter((r) => r.recalled).length,
        missed: recall.filter((r) => !r.recalled).map((r) => `${r.kind}:${r.canonical}`),
        extracted: precision.items.length,
        supported: precision.items.filter((p) => p.supported).length,
        unsupported: precision.items.filter((p) => !p.supported).map((p) => `${p.kind}:${p.name}`),
      };
      if (row.turns > LONG_CONVERSATION_TURNS) {
        row.sizeReduction = 1 - row.contextTokens / row.transcriptTokens;
        row.contextParts = tokenParts(replayed.context);
      }
      rows.push(row);
      progress(index + 1, conversations.length);
    }
  } finally {
    await replayer.close();
  }

  const byKind = (m: Map<FactKind, [number, number]>) =>
    Object.fromEntries(FACT_KINDS.map((k) => [k, ratio(...(m.get(k) ?? [0, 0]))])) as Record<FactKind, Ratio>;
  const sum = (m: Map<FactKind, [number, number]>, i: 0 | 1) => [...m.values()].reduce((t, c) => t + c[i], 0);
  const long = rows.filter((r) => r.sizeReduction !== undefined);
  const reductions = long.map((r) => r.sizeReduction!);
  const totalOf = (pick: (r: ConversationScore) => number) => long.reduce((t, r) => t + pick(r), 0);
  const config = replayer.config;
  return {
    scores: {
      conversations: rows.length,
      turns: rows.reduce((t, r) => t + r.turns, 0),
      sizeReduction:
        long.length === 0
          ? null
          : {
              conversations: long.length,
              mean: reductions.reduce((t, v) => t + v, 0) / long.length,
              median: median(reductions),
              min: Math.min(...reductions),
              pooled: 1 - totalOf((r) => r.contextTokens) / totalOf((r) => r.transcriptTokens),
              meanTranscriptTokens: Math.round(totalOf((r) => r.transcriptTokens) / long.length),
              meanContextTokens: Math.round(totalOf((r) => r.contextTokens) / long.length),
              meanContextParts: meanParts(long.map((r) => r.contextParts!)),
            },
      recall: {
        ...ratio(sum(recallCounts.byKind, 0), sum(recallCounts.byKind, 1)),
        byKind: byKind(recallCounts.byKind),
        contextRecall: ratio(recallCounts.inContext, sum(recallCounts.byKind, 1)),
        conversationsWithGold: rows.filter((r) => r.gold > 0).length,
      },
      precision: {
        ...ratio(sum(precisionCounts.byKind, 0), sum(precisionCounts.byKind, 1)),
        byKind: byKind(precisionCounts.byKind),
        noteSupport: ratio(precisionCounts.noteSupported, sum(precisionCounts.byKind, 1)),
        noneMarkers: precisionCounts.markers,
      },
      topMissed: frequent(rows.map((r) => ({ id: r.id, facts: r.missed }))),
      topUnsupported: frequent(rows.map((r) => ({ id: r.id, facts: r.unsupported }))),
    },
    timing: {
      append: summarize(appendMs),
      contextBuild: { ...summarize(contextMs), conversations: Math.min(CONTEXT_TIMED_CONVERSATIONS, rows.length) },
      finalContext: summarize(finalMs),
      replaySeconds: (performance.now() - started) / 1000,
    },
    settings: {
      contextTokens: config.contextTokens,
      contextRecentMessages: config.contextRecentMessages,
      contextRecentTokens: config.contextRecentTokens,
      contextRetrievedTokens: config.contextRetrievedTokens,
      contextMaxAgeSeconds: config.contextMaxAge,
      summaryMaxWords: config.summaryMaxWords,
      tokenizer: TOKEN_ENCODING,
      clockStart: new Date(CLOCK_START).toISOString(),
      turnGapMs: TURN_GAP_MS,
      conversationGapMs: CONVERSATION_GAP_MS,
      longConversationTurns: LONG_CONVERSATION_TURNS,
      contextTimedConversations: CONTEXT_TIMED_CONVERSATIONS,
    },
    conversations: rows,
  };
}
