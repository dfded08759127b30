/**
 * CPU and memory of the server processes (and of the load generator itself)
 * while a scenario runs, sampled once a second from /proc: CPU as cores kept
 * busy over each interval, resident memory, open file descriptors.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { processUsage } from '../../bench/lib/proc-stats.ts';

/** What one process used over a measured phase. */
export interface UsageFigures {
  /** CPU seconds ÷ wall seconds over the phase: cores kept busy on average. */
  meanCores: number;
  /** The busiest one-second interval. */
  peakCores: number;
  cpuSeconds: number;
  rssStartMiB: number;
  rssEndMiB: number;
  /** Highest resident memory seen in a sample. */
  peakRssMiB: number;
  /** Most open file descriptors seen in a sample. */
  peakOpenFiles: number;
  samples: number;
}

interface Series {
  label: string;
  pid: () => number | undefined;
  lastCpu?: number;
  lastAt?: number;
  startRss?: number;
  endRss?: number;
  peakRss: number;
  peakCores: number;
  peakFiles: number;
  samples: number;
  cpuSeconds: number;
  lastCores?: number;
  lastPid?: number;
}

function openFiles(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Samples processes every `intervalMs` until `stop()`. A process that restarts is followed by its new pid. */
export class UsageSampler {
  readonly #series: Series[] = [];
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #overflowsAtStart: number | undefined;
  /** Kernel listen-queue overflows between `start()` and `stop()` (machine-wide; null where unknown). */
  listenOverflows: number | null = null;

  /** Watch a process; `pid` is asked at every sample (it changes when a node restarts). */
  watch(label: string, pid: () => number | undefined): void {
    this.#series.push({ label, pid, peakRss: 0, peakCores: 0, peakFiles: 0, samples: 0, cpuSeconds: 0 });
  }

  start(intervalMs = 1_000): void {
    this.#startedAt = performance.now();
    this.#overflowsAtStart = listenOverflows();
    for (const series of this.#series) this.#sample(series);
    this.#timer = setInterval(() => {
      for (const series of this.#series) this.#sample(series);
    }, intervalMs);
    this.#timer.unref();
  }

  /** The latest one-second figures, for the progress line: `node-a 1.4 cores 310 MiB`. */
  now(): string {
    return this.#series
      .filter((s) => s.samples > 0)
      .map((s) => `${s.label} ${(s.lastCores ?? 0).toFixed(1)} cores ${Math.round(s.endRss ?? 0)} MiB`)
      .join(', ');
  }

  stop(): Record<string, UsageFigures> {
    clearInterval(this.#timer);
    const overflows = listenOverflows();
    if (overflows !== undefined && this.#overflowsAtStart !== undefined) {
      this.listenOverflows = overflows - this.#overflowsAtStart;
    }
    for (const series of this.#series) this.#sample(series);
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const out: Record<string, UsageFigures> = {};
    for (const s of this.#series) {
      out[s.label] = {
        meanCores: seconds > 0 ? s.cpuSeconds / seconds : 0,
        peakCores: s.peakCores,
        cpuSeconds: s.cpuSeconds,
        rssStartMiB: s.startRss ?? Number.NaN,
        rssEndMiB: s.endRss ?? Number.NaN,
        peakRssMiB: s.peakRss,
        peakOpenFiles: s.peakFiles,
        samples: s.samples,
      };
    }
    return out;
  }

  #sample(series: Series): void {
    const pid = series.pid();
    const usage = processUsage(pid);
    if (pid === undefined || usage === undefined) return;
    const at = performance.now();
    // A restarted process starts its CPU count again from zero.
    if (series.lastPid !== pid) {
      series.lastPid = pid;
      series.lastCpu = usage.cpuSeconds;
      series.lastAt = at;
    }
    const delta = usage.cpuSeconds - (series.lastCpu ?? usage.cpuSeconds);
    const wall = (at - (series.lastAt ?? at)) / 1000;
    series.cpuSeconds += Math.max(0, delta);
    if (wall >= 0.5) {
      series.lastCores = delta / wall;
      series.peakCores = Math.max(series.peakCores, series.lastCores);
    }
    series.lastCpu = usage.cpuSeconds;
    series.lastAt = at;
    series.startRss ??= usage.rssMiB;
    series.endRss = usage.rssMiB;
    series.peakRss = Math.max(series.peakRss, usage.rssMiB);
    series.peakFiles = Math.max(series.peakFiles, openFiles(pid));
    series.samples++;
  }
}

/**
 * The kernel's count of connections dropped because a listen queue was full
 * (`ListenOverflows` in /proc/net/netstat): machine-wide, so read it before
 * and after a run. Undefined where /proc is not there.
 */
export function listenOverflows(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const header = lines.findIndex((line) => line.startsWith('TcpExt:'));
    const names = lines[header]?.split(' ') ?? [];
    const values = lines[header + 1]?.split(' ') ?? [];
    const index = names.indexOf('ListenOverflows');
    return index < 0 ? undefined : Number(values[index]);
  } catch {
    return undefined;
  }
}
