/**
 * docs/BENCHMARKS.md and its charts, generated from the figures of
 * bench/langgraph-compare.ts. `benchmarksDoc` takes further sections, so
 * other figures can be folded into the same page.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LangGraphComparison, SizeFigures, SystemFigures } from '../langgraph-compare.ts';
import { comparisonFindings, comparisonSummary, factor } from './benchmarks-findings.ts';
import { comparisonMethod } from './benchmarks-method.ts';
import { int, ms, pct, table } from './markdown.ts';
import { type ChartSeries, lineChart } from './svg-chart.ts';

/** A section to add to the page: `## title`, then `body` (markdown). */
export interface DocSection {
  title: string;
  body: string;
}

export interface ChartFile {
  /** Relative to docs/. */
  file: string;
  alt: string;
  svg: string;
}

export const CHART_FILES = { save: 'bench/save-latency.svg', load: 'bench/load-latency.svg' } as const;
export const RESULTS_FILE = 'bench/langgraph-compare.json';

const PAIRS = [
  ['langgraph-sqlite', 'continuum-sqlite', 'SQLite'],
  ['langgraph-postgres', 'continuum-postgres', 'PostgreSQL'],
] as const;

const figuresAt = (system: SystemFigures | undefined, turns: number) => system?.sizes.find((s) => s.turns === turns);
const sizesOf = (results: LangGraphComparison) =>
  [...new Set(results.systems.flatMap((s) => s.sizes.map((f) => f.turns)))].sort((a, b) => a - b);
const systemOf = (results: LangGraphComparison, key: string) => results.systems.find((s) => s.key === key);

/** "p50 / p99 (n)", or why there is no figure. */
function cell(figures: SizeFigures | undefined, metric: 'save' | 'load'): string {
  if (!figures) return '—';
  const m = figures[metric];
  if (!m) return `did not reach ${int(figures.turns)} turns in ${int(figures.capped?.seconds ?? 0)} s`;
  return `${ms(m.p50)} / ${ms(m.p99)} (${int(m.n)})${figures.seededTurns === undefined ? '' : ' ‡'}`;
}

function ratio(lg: SizeFigures | undefined, cn: SizeFigures | undefined, metric: 'save' | 'load'): string {
  const a = lg?.[metric];
  const b = cn?.[metric];
  if (!a || !b) return '—';
  return `${factor(a.p50 / b.p50)} / ${factor(a.p99 / b.p99)}`;
}

/** One row per size: each system's p50 / p99 (n), then LangGraph ÷ Continuum per store. */
export function comparisonTable(results: LangGraphComparison, metric: 'save' | 'load'): string {
  const present = results.systems.filter((s) => !s.skipped);
  const pairs = PAIRS.filter(([a, b]) => present.some((s) => s.key === a) && present.some((s) => s.key === b));
  return table(
    [
      'turns',
      ...present.map((s) => `${s.label}: p50 / p99 ms (n)`),
      ...pairs.map(([, , store]) => `LangGraph ÷ Continuum, ${store}: p50 / p99`),
    ],
    sizesOf(results).map((turns) => [
      int(turns),
      ...present.map((s) => cell(figuresAt(s, turns), metric)),
      ...pairs.map(([a, b]) =>
        ratio(figuresAt(systemOf(results, a), turns), figuresAt(systemOf(results, b), turns), metric),
      ),
    ]),
  );
}

/** How long appending took, what LangGraph's tables hold per conversation, and how many turns a load brought back. */
export function buildTable(results: LangGraphComparison): string {
  const present = results.systems.filter((s) => !s.skipped);
  const rows: string[][] = [];
  for (const turns of sizesOf(results)) {
    for (const system of present) {
      const f = figuresAt(system, turns);
      if (!f) continue;
      const appended = f.capped
        ? `${int(f.capped.reachedTurns)} turns in ${ms(f.capped.seconds)} s (cap)`
        : `${f.conversations} × ${int(turns)} turns in ${ms(f.appendSeconds)} s`;
      rows.push([
        int(turns),
        system.label,
        appended,
        f.seededTurns === undefined
          ? ''
          : `${int(f.seededTurns)} turns, then ${int((turns - f.seededTurns) / 2)} exchanges`,
        f.afterSave ? `${ms(f.afterSave.p50)} / ${ms(f.afterSave.p99)}` : '',
        f.load ? int(f.load.turnsLoaded) : '—',
        f.storedBytes !== undefined
          ? `${int(f.storedBytes)} (${factor(f.storedBytes / f.textBytes)})`
          : f.seededTurns !== undefined
            ? 'not comparable (seeded)'
            : '',
        int(f.textBytes),
      ]);
    }
  }
  return table(
    [
      'turns',
      'system',
      'appended (time the saves took)',
      'seeded with',
      'work left after a save, p50 / p99 ms',
      'turns a load returns',
      'bytes stored for the conversation (÷ text)',
      'text bytes',
    ],
    rows,
  );
}

/** The HTTP ceiling: a bare Fastify route against Continuum's appends over HTTP. */
export function ceilingTable(results: LangGraphComparison): string {
  return table(
    ['connections', 'bare route req/s', 'appends req/s', 'appends ÷ bare', 'bare p50 / p99 ms', 'appends p50 / p99 ms'],
    (results.throughput ?? []).map((f) => [
      String(f.connections),
      int(f.bare.median.requestsPerSecond),
      int(f.appends.median.requestsPerSecond),
      pct(f.ratio),
      `${f.bare.median.latencyP50Ms} / ${f.bare.median.latencyP99Ms}`,
      `${f.appends.median.latencyP50Ms} / ${f.appends.median.latencyP99Ms}`,
    ]),
  );
}

// One hue per store (blue SQLite, orange PostgreSQL); LangGraph solid with circles, Continuum dashed with squares.
const SERIES_COLORS: Record<SystemFigures['key'], string> = {
  'langgraph-sqlite': '#0072B2',
  'continuum-sqlite': '#56B4E9',
  'langgraph-postgres': '#D55E00',
  'continuum-postgres': '#E69F00',
};

function series(results: LangGraphComparison, metric: 'save' | 'load'): ChartSeries[] {
  return results.systems
    .filter((s) => !s.skipped)
    .map((s) => ({
      name: s.label,
      color: SERIES_COLORS[s.key],
      dashed: s.key.startsWith('continuum'),
      marker: s.key.startsWith('continuum') ? ('square' as const) : ('circle' as const),
      points: s.sizes.flatMap((f) => {
        const m = f[metric];
        return m ? [{ x: f.turns, y: m.p50, hollow: f.seededTurns !== undefined }] : [];
      }),
    }));
}

/** The two charts: save and load p50 against conversation length, log–log. */
export function comparisonCharts(results: LangGraphComparison): ChartFile[] {
  const x = { label: 'turns in the conversation', log: true };
  const y = { label: 'p50 latency, ms', log: true };
  const note = results.systems.some((s) => s.sizes.some((f) => f.seededTurns !== undefined))
    ? 'Hollow marker: measured on a conversation seeded in one state update (appending did not reach that size within the cap).'
    : undefined;
  const when = `${results.date.slice(0, 10)}, ${results.machine.cpuModel} × ${results.machine.cores}`;
  return [
    {
      file: CHART_FILES.save,
      alt: 'Saving an exchange: p50 latency against conversation length',
      svg: lineChart({
        title: 'Saving one exchange (a turn and its reply): p50 ms',
        description: `Median time to persist one exchange against the number of turns already in the conversation, one line per system, both axes logarithmic (measured ${when}).`,
        x,
        y,
        series: series(results, 'save'),
        ...(note ? { note } : {}),
      }),
    },
    {
      file: CHART_FILES.load,
      alt: 'Loading the state for the next turn: p50 latency against conversation length',
      svg: lineChart({
        title: 'Loading what the next turn needs: p50 ms',
        description: `Median time to load the state the next turn needs against the number of turns in the conversation, one line per system, both axes logarithmic (measured ${when}).`,
        x,
        y,
        series: series(results, 'load'),
        ...(note ? { note } : {}),
      }),
    },
  ];
}

/** docs/BENCHMARKS.md: the comparison (tables, charts, method), the machine, the date, the command; then `more`. */
export function benchmarksDoc(results: LangGraphComparison, more: DocSection[] = []): string {
  const m = results.machine;
  const v = results.versions;
  const charts = comparisonCharts(results);
  const out = [
    '# Benchmarks',
    '',
    '<!-- Generated by bench/langgraph-compare.ts (bench/lib/benchmarks-doc.ts); do not edit by hand. -->',
    '',
    `Produced by \`${results.command}\` on ${results.date.slice(0, 10)} (${results.mode} run, ${int(results.wallSeconds)} s; raw figures in [\`${RESULTS_FILE}\`](${RESULTS_FILE})).`,
    '',
    `**Machine:** ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}; PostgreSQL ${v['PostgreSQL'] ?? 'unknown'} on loopback. Load average ${m.loadAverageAtStart.join(' / ')} at start and ${results.loadAverageAtEnd.join(' / ')} at the end (1/5/15 min): the machine is shared, so read ratios and orders of magnitude, not capacity.`,
    '',
    `**Versions:** ${Object.entries(v)
      .filter(([name]) => name !== 'PostgreSQL')
      .map(([name, version]) => `\`${name}\` ${version}`)
      .join(', ')}.`,
    '',
    '## Side by side with LangGraph checkpointers',
    '',
    ...comparisonFindings(results).map((line) => `- ${line}`),
    '',
    `![${charts[0]!.alt}](${charts[0]!.file})`,
    '',
    `![${charts[1]!.alt}](${charts[1]!.file})`,
    '',
    comparisonMethod(results),
    '',
    '### Per size',
    '',
    ...comparisonSummary(results).map((line) => `- ${line}`),
    '',
    '### Saving one exchange (a turn and its reply)',
    '',
    comparisonTable(results, 'save'),
    '',
    '### Loading what the next turn needs',
    '',
    comparisonTable(results, 'load'),
    '',
    '‡ measured on a conversation seeded in one state update, after appending did not reach the size within the cap (see the method above and the table below).',
    '',
    '### Building the conversations, and what they take on disk',
    '',
    buildTable(results),
  ];
  if (results.throughput && results.throughput.length > 0) {
    const tp = results.params['http'] as Record<string, unknown> | undefined;
    out.push(
      '',
      '## The ceiling for HTTP throughput',
      '',
      `LangGraph's checkpointers are libraries with no HTTP layer; this section bounds what any server in front of a store can do on this machine. A bare Fastify 5 \`GET /\` route in its own process (\`bench/bare-server.ts\`: no plugins, no logging) is the most requests per second this machine serves over loopback; against it, \`POST /v1/conversations/:id/turns\` on a real \`continuum serve\` process (temp SQLite data dir, rate and session limits off), each autocannon connection appending to its own conversation. Same run, the two sides taking turns, ${String(tp?.['rounds'] ?? '')} × ${String(tp?.['durationSeconds'] ?? '')} s per side after a ${String(tp?.['warmupSeconds'] ?? '')} s warm-up; medians of the rounds (bench/append-throughput.ts).`,
      '',
      ceilingTable(results),
    );
  }
  if (results.throughputError) {
    out.push('', '## The ceiling for HTTP throughput', '', `Not measured in this run: ${results.throughputError}`);
  }
  for (const section of more) out.push('', `## ${section.title}`, '', section.body);
  out.push(
    '',
    '## Data',
    '',
    `Turn text is real clinical dialogue: ${int(results.data.turns)} speaker turns (mean ${Math.round(results.data.meanChars)} characters) from \`${results.data.files.join('` and `')}\` (see /work/shared/data/SOURCES.md), cycled in file order; every system gets exactly the same text for the same conversation. Both data sets are CC BY 4.0:`,
    '',
    ...results.data.citation.map((c) => `- ${c}`),
    '',
    '## Reproducing',
    '',
    'PostgreSQL is the server named by `CONTINUUM_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`); each system gets a fresh schema, dropped afterwards. Without PostgreSQL the two PostgreSQL systems are reported as skipped.',
    '',
    `The run on this page: \`${results.command}\`. Others:`,
    '',
    '```sh',
    'node --import tsx bench/langgraph-compare.ts                # full: 10 to 10,000 turns; writes this page, its charts and the JSON',
    'node --import tsx bench/langgraph-compare.ts --quick        # 10 to 1,000 turns, a smaller cap; prints only (--docs to write)',
    'node --import tsx bench/langgraph-compare.ts --no-http --cap-seconds 600',
    'node --import tsx bench/langgraph-compare.ts --from docs/bench/langgraph-compare.json   # render this page again',
    '```',
    '',
  );
  return out.join('\n');
}

/** The tables and verdict lines, for the terminal. */
export function consoleReport(results: LangGraphComparison): string {
  return [
    'Saving one exchange',
    comparisonTable(results, 'save'),
    '',
    'Loading what the next turn needs',
    comparisonTable(results, 'load'),
    '',
    buildTable(results),
    ...(results.throughput ? ['', 'HTTP ceiling', ceilingTable(results)] : []),
    ...(results.throughputError ? ['', `HTTP ceiling not measured: ${results.throughputError}`] : []),
    '',
    ...comparisonSummary(results),
    '',
  ].join('\n');
}

/** Write docs/BENCHMARKS.md, the charts and the raw figures under `docsDir`; returns the files written. */
export function writeComparisonDocs(results: LangGraphComparison, docsDir: string, more: DocSection[] = []): string[] {
  const written: string[] = [];
  const write = (relative: string, text: string) => {
    const file = path.join(docsDir, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    written.push(file);
  };
  for (const chart of comparisonCharts(results)) write(chart.file, chart.svg);
  write(
    RESULTS_FILE,
    `${JSON.stringify(
      results,
      (_key, value: unknown) =>
        typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value,
      2,
    )}\n`,
  );
  write('BENCHMARKS.md', benchmarksDoc(results, more));
  return written;
}
