/**
 * What every scenario shares: how it is told to run, a temp data dir per
 * node, and the verdict helpers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { staleSockets } from './http.ts';
import { type ContinuumNode, nodeProblems } from './node-process.ts';
import type { Recorder } from './recorder.ts';
import type { ScenarioReport, Verdict } from './report.ts';
import type { UsageSampler } from './usage.ts';

export interface RunContext {
  /** Small counts, a few seconds (CI). */
  quick: boolean;
  /** Progress lines on stderr. */
  progress: boolean;
  /** The command line that reproduces the run, for the report. */
  command: string;
  log: (line: string) => void;
}

/** A fresh data dir under the OS temp dir; `cleanup` removes every one made. */
export class DataDirs {
  readonly #dirs: string[] = [];

  make(label: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), `continuum-load-${label}-`));
    this.#dirs.push(dir);
    return dir;
  }

  cleanup(): void {
    for (const dir of this.#dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

export const rate = (part: number, whole: number): number => (whole === 0 ? 0 : part / whole);
export const percent = (value: number): string => `${(value * 100).toFixed(value === 1 || value === 0 ? 0 : 2)} %`;

export function verdict(name: string, target: string, value: string, met: boolean): Verdict {
  return { name, target, value, met };
}

/** Copy what the recorder saw into the report. */
export function recordInto(report: ScenarioReport, recorder: Recorder): void {
  report.latency = recorder.latency();
  report.errors = recorder.errors();
  report.errorSamples = recorder.errorSamples();
}

/** The error-rate verdict of the plan (< 0.1 %), and "zero" where the target is zero. */
export function errorVerdict(recorder: Recorder, zero: boolean): Verdict {
  const total = recorder.succeeded + recorder.failed;
  const share = rate(recorder.failed, total);
  return zero
    ? verdict('errors', '0', `${recorder.failed} of ${total.toLocaleString('en-US')} requests`, recorder.failed === 0)
    : verdict('error rate', '< 0.1 %', `${percent(share)} (${recorder.failed} of ${total})`, share < 0.001);
}

export const loadAverage = (): number[] => os.loadavg();

/** Wait `ms` (for pacing). */
export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Stop sampling and put the CPU and memory figures, and the kernel's listen-queue overflows, into the report. */
export function recordUsage(report: ScenarioReport, usage: UsageSampler): void {
  report.usage = usage.stop();
  report.figures['connections dropped by a full listen queue (kernel, machine-wide)'] = usage.listenOverflows;
  report.figures['requests resent: the kept-alive socket had just been closed by the node'] = staleSockets.retried;
  staleSockets.retried = 0;
}

/** The nodes' own warnings and errors, as notes of the report (before the nodes are stopped). */
export function recordNodeProblems(report: ScenarioReport, nodes: readonly ContinuumNode[]): void {
  for (const node of nodes) {
    for (const problem of nodeProblems(node)) report.notes.push(`node log: ${problem}`);
  }
}
