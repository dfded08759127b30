import { describe, expect, it } from 'vitest';
import type { FirstDeltaFigures, FirstDeltaRun, ServerSplit } from '../../bench/first-delta.ts';
import type { LatencySummary } from '../../bench/lib/stats.ts';
import { firstDeltaSection, firstDeltaSplitTable, firstDeltaVerdict } from '../../bench/lib/streaming-report.ts';

const summary = (p50: number, p99: number): LatencySummary => ({ n: 1000, p50, p99, max: p99 + 1, mean: p50 });

function figures(split: ServerSplit): FirstDeltaFigures {
  const run: FirstDeltaRun = {
    scenario: 'size-flush',
    concurrency: 1,
    provider: summary(27, 30),
    continuum: summary(30, 34),
    addedP50: 3,
    addedP99: 4,
    beforeModel: summary(2, 3),
    providerInRequest: summary(26, 29),
    afterProvider: summary(1, 2),
    addedPerRequest: summary(3.5, 5.5),
    userTurn: summary(3, 4),
    server: split,
    failures: {},
  };
  return {
    firstChunkDelayMs: 25,
    client: 'http',
    scripts: {
      coalesced: { chunks: 20, firstChunkBytes: 5, intervalMs: 10, tailMs: 190 },
      'size-flush': { chunks: 2, firstChunkBytes: 1100, intervalMs: 10, tailMs: 10 },
    },
    runs: [run],
  };
}

const older: ServerSplit = {
  beforeModel: summary(1.8, 4.1),
  afterProvider: summary(0.4, 0.9),
  own: summary(2.2, 5.6),
  transport: summary(1.1, 1.9),
};
const measured: ServerSplit = { ...older, cpuWait: summary(0, 2.6), ownLessCpuWait: summary(2.17, 3.31) };

describe("the first delta's split at Continuum's socket", () => {
  it('shows the wait for a CPU and the own part less it, when they were measured', () => {
    const rows = firstDeltaSplitTable(figures(measured)).split('\n');
    expect(rows[0]).toContain('of it: waiting for a CPU p50 / p99');
    expect(rows[0]).toContain('own part less that wait p50 / p99');
    expect(rows[2]).toContain('| 0.4 / 0.9 | 0 / 2.6 | 2.17 / 3.31 | 1.1 / 1.9 |');
    const verdict = firstDeltaVerdict(figures(measured), 5);
    expect(verdict).toContain('less the time its thread waited for a CPU, p50 2.17, p99 3.31 ms');
    expect(firstDeltaSection(figures(measured), {})).toContain('**Waiting for a CPU**');
  });

  it('renders results from before the wait was measured as they were', () => {
    const rows = firstDeltaSplitTable(figures(older)).split('\n');
    expect(rows[0]).not.toContain('waiting for a CPU');
    expect(rows[0]!.split('|').length).toBe(rows[2]!.split('|').length);
    expect(firstDeltaVerdict(figures(older), 5)).not.toContain('waited for a CPU');
    expect(firstDeltaSection(figures(older), {})).not.toContain('Waiting for a CPU');
  });
});

describe("the first-delta method's request tag", () => {
  it('is named when the results record it, and not for older results', () => {
    const tagged = { ...figures(measured), requestTag: '[#n]' };
    expect(firstDeltaSection(tagged, {})).toContain('each message is a clinical user turn with `[#n]` added');
    expect(firstDeltaSection(figures(measured), {})).not.toContain('each message is a clinical user turn');
  });
});
