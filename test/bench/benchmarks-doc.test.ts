import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LangGraphComparison, SizeFigures } from '../../bench/langgraph-compare.ts';
import {
  benchmarksDoc,
  CHART_FILES,
  comparisonCharts,
  comparisonTable,
  RESULTS_FILE,
  writeComparisonDocs,
} from '../../bench/lib/benchmarks-doc.ts';

const latency = (p50: number, p99: number, n = 100) => ({ n, p50, p99, max: p99, mean: p50 });

function size(turns: number, save: number, load: number, extra: Partial<SizeFigures> = {}): SizeFigures {
  return {
    turns,
    conversations: 1,
    appendSeconds: 1,
    save: latency(save, save * 2),
    load: { ...latency(load, load * 2), turnsLoaded: Math.min(turns, 20) },
    textBytes: turns * 60,
    ...extra,
  };
}

function results(): LangGraphComparison {
  return {
    mode: 'full',
    command: 'node --import tsx bench/langgraph-compare.ts',
    date: '2026-11-26T00:00:00.000Z',
    wallSeconds: 600,
    machine: {
      node: 'v20.20.2',
      platform: 'linux x64',
      cpuModel: 'Test CPU',
      cores: 2,
      memoryGiB: 8,
      loadAverageAtStart: [1, 1, 1],
    },
    loadAverageAtEnd: [2, 2, 2],
    versions: { '@langchain/langgraph': '1.7.3', PostgreSQL: '15.2' },
    data: { files: ['a.jsonl'], turns: 100, meanChars: 67, citation: ['A data set, CC BY 4.0.'] },
    params: {
      compare: { saveSamples: 100, loadWarmup: 10, loadIterations: 200, loadBudgetSeconds: 15, capSeconds: 180 },
      http: { rounds: 2, durationSeconds: 5, warmupSeconds: 2 },
    },
    systems: [
      {
        key: 'langgraph-sqlite',
        label: 'LangGraph, SQLite checkpointer',
        sizes: [
          size(10, 4, 1, { storedBytes: 30_000 }),
          size(10_000, 2000, 1000, {
            capped: { reachedTurns: 3000, seconds: 180 },
            seededTurns: 9940,
          }),
        ],
      },
      {
        key: 'continuum-sqlite',
        label: 'Continuum, SQLite store',
        sizes: [size(10, 8, 0.5), size(10_000, 10, 1)],
      },
      {
        key: 'langgraph-postgres',
        label: 'LangGraph, PostgreSQL checkpointer',
        skipped: 'PostgreSQL at x did not answer',
        sizes: [],
      },
      {
        key: 'continuum-postgres',
        label: 'Continuum, PostgreSQL store',
        sizes: [
          size(10, 20, 5),
          {
            turns: 10_000,
            conversations: 1,
            appendSeconds: 180,
            capped: { reachedTurns: 8000, seconds: 180 },
            textBytes: 1,
          },
        ],
      },
    ],
  };
}

describe('benchmarksDoc', () => {
  const doc = benchmarksDoc(results(), [{ title: 'More figures', body: 'folded in' }]);

  it('names the command, the date, the machine and the versions', () => {
    expect(doc).toContain('Produced by `node --import tsx bench/langgraph-compare.ts` on 2026-11-26');
    expect(doc).toContain('**Machine:** Test CPU, 2 cores, 8 GiB, linux x64, Node v20.20.2; PostgreSQL 15.2');
    expect(doc).toContain('`@langchain/langgraph` 1.7.3');
  });

  it('links both charts and the raw figures', () => {
    expect(doc).toContain(`](${CHART_FILES.save})`);
    expect(doc).toContain(`](${CHART_FILES.load})`);
    expect(doc).toContain(`](${RESULTS_FILE})`);
  });

  it('gives LangGraph ÷ Continuum per store, p50 and p99', () => {
    const save = comparisonTable(results(), 'save');
    expect(save).toContain('| 10 | 4 / 8 (100) | 8 / 16 (100) | 20 / 40 (100) | × 0.50 / × 0.50 |');
    expect(save).toContain(
      '| 10,000 | 2000 / 4000 (100) ‡ | 10 / 20 (100) | did not reach 10,000 turns in 180 s | × 200 / × 200 |',
    );
    expect(save).not.toContain('PostgreSQL checkpointer');
    expect(doc).toContain('10,000 turns: save 2000 vs 10 ms (× 200), load 1000 vs 1 ms (× 1,000) ‡');
  });

  it('sums up how each side scales, what LangGraph stores and where appending hit the cap', () => {
    expect(doc).toContain(
      "**Saving an exchange**, p50 — SQLite: from 10 to 10,000 turns LangGraph's p50 goes × 500, Continuum's × 1.25; LangGraph ÷ Continuum × 0.50 at 10, × 200 at 10,000.",
    );
    expect(doc).toContain(
      "**Storage**: a 10-turn conversation (0.6 kB of text) takes 30.0 kB in LangGraph's SQLite checkpointer",
    );
    expect(doc).toContain('LangGraph, SQLite checkpointer did not reach 10,000 turns by appending');
    expect(doc).toContain(
      'Continuum, PostgreSQL store did not reach 10,000 turns by appending (its saves added up to 180 s at 8,000 turns)',
    );
  });

  it('says how a capped size was measured and what LangGraph stored', () => {
    expect(doc).toContain('3,000 turns in 180 s (cap) | 9,940 turns, then 30 exchanges');
    expect(doc).toContain('| 30,000 (× 50) | 600 |');
    expect(doc).toContain('| not comparable (seeded) | 600,000 |');
    expect(doc).toContain('8,000 turns in 180 s (cap)');
  });

  it('folds in further sections before the data and the commands', () => {
    expect(doc.indexOf('## More figures')).toBeGreaterThan(doc.indexOf('## Side by side'));
    expect(doc.indexOf('## More figures')).toBeLessThan(doc.indexOf('## Reproducing'));
    expect(doc).not.toContain('## The ceiling for HTTP throughput');
  });
});

describe('comparisonCharts', () => {
  it('plots p50 per system, with seeded sizes hollow and unreached sizes left out', () => {
    const [save, load] = comparisonCharts(results());
    expect(save!.file).toBe(CHART_FILES.save);
    expect(load!.file).toBe(CHART_FILES.load);
    expect(save!.svg).toContain(
      'LangGraph, SQLite checkpointer (p50 latency, ms at each turns in the conversation): 10: 4; 10,000: 2,000 (hollow marker).',
    );
    expect(save!.svg).toContain(
      'Continuum, PostgreSQL store (p50 latency, ms at each turns in the conversation): 10: 20.',
    );
    expect(save!.svg).toContain('Hollow marker');
  });
});

describe('writeComparisonDocs', () => {
  it('writes the page, both charts and the JSON', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'continuum-docs-'));
    try {
      const written = writeComparisonDocs(results(), dir);
      expect(written.map((f) => path.relative(dir, f)).sort()).toEqual(
        ['BENCHMARKS.md', CHART_FILES.load, CHART_FILES.save, RESULTS_FILE].sort(),
      );
      for (const file of written) expect(existsSync(file)).toBe(true);
      expect(JSON.parse(readFileSync(path.join(dir, RESULTS_FILE), 'utf8')).systems).toHaveLength(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
