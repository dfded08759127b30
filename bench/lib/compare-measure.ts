/**
 * One size of the side-by-side (bench/langgraph-compare.ts): the systems
 * build their conversations and load their state taking turns in short
 * blocks (10 exchanges, 20 loads; the order rotating), so a busy spell on
 * the machine lands on all of them alike instead of on whichever ran then,
 * while each block's garbage is mostly collected within the block that made
 * it. Between two timed operations the event loop is left to go quiet
 * (untimed), so work one operation leaves running is not charged to the next.
 */
import { setImmediate as nextTick } from 'node:timers/promises';
import type { ClinicalTurn } from './clinical-text.ts';
import type { System, SystemKey, Thread } from './compare-systems.ts';
import { type LatencySummary, summarize } from './stats.ts';

export interface MeasureOptions {
  /** Save samples wanted per size: the last exchanges before each conversation reaches the size, over as many conversations as it takes. */
  saveSamples: number;
  /** Exchanges measured after a seeded start, when appending did not reach the size within the cap. */
  seededSamples: number;
  /** Untimed loads before the timed ones (stopping after a third of `loadBudgetSeconds`). */
  loadWarmup: number;
  /** Most timed loads per size; fewer when they add up to more than `loadBudgetSeconds`. */
  loadIterations: number;
  loadBudgetSeconds: number;
  /** Most seconds one system's saves may add up to at one size. */
  capSeconds: number;
  turns: readonly ClinicalTurn[];
  /** Stops the run between two operations. */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface SizeFigures {
  turns: number;
  /** Conversations built to this size by appending (more than one for small sizes, to get `saveSamples`). */
  conversations: number;
  /** Seconds the system's saves took, added up. */
  appendSeconds: number;
  /** Set when the saves hit the cap: how far the last conversation got. */
  capped?: { reachedTurns: number; seconds: number };
  /** Set when the figures come from a conversation seeded with `seededTurns` in one state update. */
  seededTurns?: number;
  /** Per exchange (two turns), ms; absent when the size was not reached. */
  save?: LatencySummary;
  /** Per exchange, ms: the wait, untimed in `save`, for the event loop to go quiet after it (see `quiesce`). */
  afterSave?: LatencySummary;
  load?: LatencySummary & { turnsLoaded: number };
  /** What the store holds for the measured conversation (LangGraph, appended ones only), and the UTF-8 bytes of its text. */
  storedBytes?: number;
  textBytes: number;
}

interface Lane {
  system: System;
  thread?: Thread;
  saves: number[];
  afterSaves: number[];
  saveMs: number;
  capped?: { reachedTurns: number; seconds: number };
  seededTurns?: number;
  loads: number[];
  loadMs: number;
  turnsLoaded: number;
}

/** The text of conversation `replicate` at `size`, identical for every system. */
export function textOf(
  turns: readonly ClinicalTurn[],
  size: number,
  replicate: number,
): (index: number) => ClinicalTurn {
  const start = (size * 7 + replicate * 1_009) % turns.length;
  return (index) => turns[(start + index) % turns.length]!;
}

/** `lanes` starting at `offset`, wrapping round: each position goes first in turn. */
const rotated = <T>(lanes: T[], offset: number) => lanes.map((_, i) => lanes[(i + offset) % lanes.length]!);

const SAVE_BLOCK = 10;
const LOAD_BLOCK = 20;

/** Whatever the last operation left running: the system's own (`settle`), then a few turns of the event loop. */
async function quiesce(thread: Thread): Promise<number> {
  const started = performance.now();
  await thread.settle?.();
  for (let i = 0; i < 5; i++) await nextTick();
  return performance.now() - started;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** One timed save; then, untimed in it, whatever work it left running, so that work is not charged to the next operation. */
async function save(
  lane: Lane,
  turn: ClinicalTurn,
  reply: ClinicalTurn,
  sampled: boolean,
  options: MeasureOptions,
): Promise<void> {
  options.signal?.throwIfAborted();
  const thread = lane.thread!;
  const ms = await timed(() => thread.save(turn, reply));
  const after = await quiesce(thread);
  lane.saveMs += ms;
  if (!sampled) return;
  lane.saves.push(ms);
  lane.afterSaves.push(after);
}

/** `count` items in blocks of `block`: each lane in turn (the order rotating) takes its next block. */
async function inBlocks<T>(
  lanes: T[],
  count: number,
  block: number,
  run: (lane: T, index: number) => Promise<boolean | undefined>,
): Promise<void> {
  for (let start = 0, round = 0; start < count; start += block, round++) {
    for (const lane of rotated(lanes, round)) {
      for (let index = start; index < Math.min(count, start + block); index++) {
        if ((await run(lane, index)) === false) break;
      }
    }
  }
}

async function loads(lanes: Lane[], options: MeasureOptions): Promise<void> {
  const budgetMs = options.loadBudgetSeconds * 1000;
  const warmMs = new Map<Lane, number>();
  await inBlocks(lanes, options.loadWarmup, LOAD_BLOCK, async (lane, index) => {
    if (index > 0 && (warmMs.get(lane) ?? 0) > budgetMs / 3) return false;
    warmMs.set(lane, (warmMs.get(lane) ?? 0) + (await timed(() => lane.thread!.load())));
    await quiesce(lane.thread!);
    return true;
  });
  const wants = (lane: Lane) =>
    lane.loads.length < options.loadIterations && (lane.loads.length < 5 || lane.loadMs < budgetMs);
  await inBlocks(lanes, options.loadIterations, LOAD_BLOCK, async (lane) => {
    if (!wants(lane)) return false;
    options.signal?.throwIfAborted();
    const started = performance.now();
    lane.turnsLoaded = await lane.thread!.load();
    const ms = performance.now() - started;
    lane.loads.push(ms);
    lane.loadMs += ms;
    await quiesce(lane.thread!);
    return true;
  });
}

/**
 * Every system at `size` turns: appended one exchange at a time (the last
 * min(size / 2, saveSamples) exchanges of each conversation timed), then the
 * loads. A system whose saves add up to more than the cap stops there; where
 * it can, it is measured on a conversation seeded with all but the last
 * exchanges instead.
 */
export async function measureSize(
  systems: System[],
  size: number,
  options: MeasureOptions,
): Promise<Map<SystemKey, SizeFigures>> {
  const log = options.log ?? (() => {});
  const exchanges = size / 2;
  const window = Math.min(exchanges, options.saveSamples);
  const replicates = Math.ceil(options.saveSamples / window);
  const lanes: Lane[] = systems.map((system) => ({
    system,
    saves: [],
    afterSaves: [],
    saveMs: 0,
    loads: [],
    loadMs: 0,
    turnsLoaded: 0,
  }));
  let text = textOf(options.turns, size, 0);
  for (let replicate = 0; replicate < replicates; replicate++) {
    text = textOf(options.turns, size, replicate);
    const active = lanes.filter((lane) => !lane.capped);
    for (const lane of active) lane.thread = await lane.system.newThread();
    await inBlocks(rotated(active, replicate), exchanges, SAVE_BLOCK, async (lane, exchange) => {
      if (lane.capped) return false;
      await save(lane, text(2 * exchange), text(2 * exchange + 1), exchange >= exchanges - window, options);
      if (lane.saveMs > options.capSeconds * 1000 && exchange < exchanges - 1) {
        lane.capped = { reachedTurns: 2 * (exchange + 1), seconds: lane.saveMs / 1000 };
        log(
          `    ${lane.system.label}: did not reach ${size} turns in ${Math.round(lane.saveMs / 1000)} s of saves (reached ${lane.capped.reachedTurns})`,
        );
      }
      return true;
    });
  }

  // The same state, written in one update: the size's figures without appending the whole history first.
  const seeded = lanes.filter((lane) => lane.capped && lane.system.seededThread);
  const seededExchanges = Math.min(window, options.seededSamples);
  for (const lane of seeded) {
    lane.seededTurns = size - 2 * seededExchanges;
    lane.thread = await lane.system.seededThread!(Array.from({ length: lane.seededTurns }, (_, i) => text(i)));
    lane.saves = [];
    lane.afterSaves = [];
  }
  const firstSeeded = exchanges - seededExchanges;
  await inBlocks(seeded, seededExchanges, SAVE_BLOCK, async (lane, index) => {
    const exchange = firstSeeded + index;
    await save(lane, text(2 * exchange), text(2 * exchange + 1), true, options);
    return true;
  });

  const measured = lanes.filter((lane) => !lane.capped || lane.seededTurns !== undefined);
  await loads(measured, options);
  const textBytes = Array.from({ length: size }, (_, i) => Buffer.byteLength(text(i).content)).reduce((a, b) => a + b);
  const out = new Map<SystemKey, SizeFigures>();
  for (const lane of lanes) {
    const figures: SizeFigures = {
      turns: size,
      conversations: replicates,
      appendSeconds: lane.saveMs / 1000,
      textBytes,
    };
    if (lane.capped) figures.capped = lane.capped;
    if (measured.includes(lane)) {
      if (lane.seededTurns !== undefined) figures.seededTurns = lane.seededTurns;
      figures.save = summarize(lane.saves);
      if (lane.afterSaves.length > 0) figures.afterSave = summarize(lane.afterSaves);
      figures.load = { ...summarize(lane.loads), turnsLoaded: lane.turnsLoaded };
      // A seeded conversation lacks the checkpoints appending would have left behind: its bytes would mislead.
      const stored = lane.seededTurns === undefined ? await lane.thread!.storedBytes?.() : undefined;
      if (stored !== undefined) figures.storedBytes = stored;
      log(
        `    ${lane.system.label} at ${size}: save p50 ${figures.save.p50.toFixed(2)} ms (n ${figures.save.n}), load p50 ${figures.load.p50.toFixed(2)} ms (n ${figures.load.n}, ${figures.load.turnsLoaded} turns)`,
      );
    }
    out.set(lane.system.key, figures);
  }
  return out;
}
