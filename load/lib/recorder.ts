/**
 * What the simulated clients saw: a latency sample per successful request,
 * by operation, and every failure by operation and code.
 */
import { type LatencySummary, summarize } from '../../bench/lib/stats.ts';

export class Recorder {
  readonly #latency = new Map<string, number[]>();
  readonly #errors = new Map<string, number>();
  readonly #samples: string[] = [];
  #ok = 0;
  #failed = 0;

  /** A request that did what it should, and how long it took. */
  ok(op: string, ms: number): void {
    this.#ok++;
    let samples = this.#latency.get(op);
    if (samples === undefined) {
      samples = [];
      this.#latency.set(op, samples);
    }
    samples.push(ms);
  }

  /** A request that failed: `label` is its code (`409 turn_conflict`, `network ECONNRESET`, `timeout`). */
  fail(op: string, label: string, detail?: string): void {
    this.#failed++;
    const key = `${op}: ${label}`;
    this.#errors.set(key, (this.#errors.get(key) ?? 0) + 1);
    if (detail !== undefined && this.#samples.length < 10) this.#samples.push(`${key}: ${detail.slice(0, 300)}`);
  }

  get succeeded(): number {
    return this.#ok;
  }

  get failed(): number {
    return this.#failed;
  }

  /** Failures by `operation: code`. */
  errors(): Record<string, number> {
    return Object.fromEntries([...this.#errors].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** A few failure details, to tell what went wrong. */
  errorSamples(): string[] {
    return [...this.#samples];
  }

  /** Latency by operation, plus `all`. */
  latency(): Record<string, LatencySummary> {
    const out: Record<string, LatencySummary> = {};
    const all: number[] = [];
    for (const [op, samples] of [...this.#latency].sort(([a], [b]) => a.localeCompare(b))) {
      out[op] = summarize(samples);
      for (const sample of samples) all.push(sample);
    }
    out['all'] = summarize(all);
    return out;
  }

  /** The p50 / p99 of the samples so far, for the progress line. */
  quickLatency(op: string): string {
    const samples = this.#latency.get(op);
    if (samples === undefined || samples.length === 0) return '-';
    const { p50, p99 } = summarize(samples.slice(-2000));
    return `${Math.round(p50)}/${Math.round(p99)} ms`;
  }
}
