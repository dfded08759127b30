/**
 * A pass-through ModelProvider that notes when each generation was asked for
 * and when its first delta came out of the wrapped adapter, so a reply's
 * time to first delta can be split into Continuum's part and the provider's.
 */
import type { GenerateRequest, Generation, ModelProvider } from '../../src/models/port.ts';

export interface GenerationTiming {
  /** The request tag found in the prompt (see {@link tagOf}), if any. */
  tag: number | undefined;
  /** `performance.now()` when `generate` was called. */
  calledAt: number;
  /** `performance.now()` when the adapter's first delta was read. */
  firstDeltaAt?: number;
  /** The thread's wait for a CPU so far (see bench/lib/cpu-wait.ts) when `generate` was called, in ms. */
  calledWait?: number;
  /** The same when the adapter's first delta was read. */
  firstDeltaWait?: number;
}

const TAG = /\[#(\d+)\]/g;

/**
 * `performance.now()` of this process as epoch milliseconds: comparable across processes on one machine (each
 * process's time origin is taken from the same clock).
 */
export const epochOf = (now: number) => performance.timeOrigin + now;

/**
 * The marker a benchmark puts in a user message to find its generation again: a number of its own, which gives
 * the conversation's search index one term that no other message shares. (A marker with words in it, as
 * `[bench-request 7]` once was, puts the same terms in every message: every query then matched every earlier
 * request, which made retrieval do several times the work a real conversation asks of it.)
 */
export const tagText = (n: number) => `[#${n}]`;

/** {@link tagText}'s form, as results record it. */
export const TAG_FORM = '[#n]';

/** The highest request tag in the prompt: the newest user turn (earlier turns of the conversation carry lower ones). */
export function tagOf(request: GenerateRequest): number | undefined {
  let found: number | undefined;
  for (const message of request.messages) {
    for (const match of message.content.matchAll(TAG)) found = Math.max(found ?? 0, Number(match[1]));
  }
  return found;
}

/** `cpuWait`, when given, is read beside each time (see {@link GenerationTiming.calledWait}). */
export function tapProvider(
  inner: ModelProvider,
  record: (timing: GenerationTiming) => void,
  cpuWait?: () => number,
): ModelProvider {
  return {
    kind: inner.kind,
    generate(request: GenerateRequest): Generation {
      const timing: GenerationTiming = { tag: tagOf(request), calledAt: performance.now() };
      if (cpuWait) timing.calledWait = cpuWait();
      record(timing);
      const generation = inner.generate(request);
      async function* deltas(): AsyncGenerator<string> {
        for await (const delta of generation.deltas) {
          if (timing.firstDeltaAt === undefined) {
            timing.firstDeltaAt = performance.now();
            if (cpuWait) timing.firstDeltaWait = cpuWait();
          }
          yield delta;
        }
      }
      return { deltas: deltas(), result: generation.result };
    },
    probe: (signal) => inner.probe(signal),
  };
}
