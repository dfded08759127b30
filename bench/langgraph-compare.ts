/**
 * Side by side with what users would pick instead: keeping a conversation
 * with LangGraph's SQLite and PostgreSQL checkpointers against Continuum's
 * SQLite and PostgreSQL stores, on the same machine in the same run, at
 * 10, 100, 1,000 and 10,000 turns — the save of one exchange (a turn and
 * its reply) and the load of what the next turn needs (lib/compare-systems.ts
 * says what each system does for both). Plus a bare Fastify route as the
 * ceiling for HTTP throughput (bench/append-throughput.ts).
 *
 * Writes docs/BENCHMARKS.md, the charts under docs/bench/ and the raw figures
 * (docs/bench/langgraph-compare.json) on full runs, or with --docs; --from
 * renders them again from saved figures without measuring:
 *
 *   node --import tsx bench/langgraph-compare.ts [--quick] [--docs] [--no-http] [--cap-seconds N]
 *   node --import tsx bench/langgraph-compare.ts --from docs/bench/langgraph-compare.json
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runAppendThroughput, type ThroughputFigures } from './append-throughput.ts';
import { consoleReport, writeComparisonDocs } from './lib/benchmarks-doc.ts';
import { DATA_CITATION, DATA_FILES, loadClinicalTurns, meanLength } from './lib/clinical-text.ts';
import { type MeasureOptions, measureSize, type SizeFigures, textOf } from './lib/compare-measure.ts';
import {
  openContinuumPostgres,
  openContinuumSqlite,
  openLangGraphPostgres,
  openLangGraphSqlite,
  postgresUnavailable,
  postgresVersion,
  SYSTEM_KEYS,
  SYSTEM_LABELS,
  type System,
  type SystemKey,
} from './lib/compare-systems.ts';
import { type MachineInfo, machineInfo } from './lib/machine.ts';

export interface LangGraphCompareOptions extends MeasureOptions {
  /** Conversation lengths in turns (even: a conversation grows by exchanges of two turns). */
  sizes: number[];
  /** Exchanges of an untimed conversation per system before anything is timed. */
  warmupExchanges: number;
  recentTurns: number;
  postgresUrl: string;
  systems?: readonly SystemKey[];
}

export type { SizeFigures };

export interface SystemFigures {
  key: SystemKey;
  label: string;
  skipped?: string;
  sizes: SizeFigures[];
}

export interface LangGraphComparison {
  mode: 'full' | 'quick';
  command: string;
  date: string;
  wallSeconds: number;
  machine: MachineInfo;
  loadAverageAtEnd: number[];
  versions: Record<string, string>;
  data: { files: string[]; turns: number; meanChars: number; citation: string[] };
  params: Record<string, unknown>;
  systems: SystemFigures[];
  /** The bare-route ceiling and Continuum's appends over HTTP, when measured (or folded in from `npm run bench`). */
  throughput?: ThroughputFigures[];
  /** Why the HTTP part has no figures, when it failed. */
  throughputError?: string;
}

const elapsed = (since: number) => (performance.now() - since) / 1000;

async function openSystem(key: SystemKey, options: LangGraphCompareOptions): Promise<System | string> {
  if (key.endsWith('postgres')) {
    const down = await postgresUnavailable(options.postgresUrl);
    if (down) return `${down}; set CONTINUUM_TEST_DATABASE_URL`;
  }
  switch (key) {
    case 'langgraph-sqlite':
      return openLangGraphSqlite();
    case 'langgraph-postgres':
      return openLangGraphPostgres(options.postgresUrl);
    case 'continuum-sqlite':
      return openContinuumSqlite(options.recentTurns);
    case 'continuum-postgres':
      return openContinuumPostgres(options.postgresUrl, options.recentTurns);
  }
}

/**
 * Every system at every size, sizes ascending; at each size the systems run
 * in lockstep (lib/compare-measure.ts), so drift in the machine's load hits
 * them alike.
 */
export async function runLangGraphComparison(options: LangGraphCompareOptions): Promise<SystemFigures[]> {
  const log = options.log ?? (() => {});
  const keys = options.systems ?? SYSTEM_KEYS;
  const opened: System[] = [];
  const results: SystemFigures[] = keys.map((key) => ({ key, label: SYSTEM_LABELS[key], sizes: [] }));
  try {
    for (const [index, key] of keys.entries()) {
      const system = await openSystem(key, options);
      if (typeof system === 'string') {
        results[index]!.skipped = system;
        log(`  ${SYSTEM_LABELS[key]}: skipped (${system})`);
        continue;
      }
      opened.push(system);
      const warmup = await system.newThread();
      const text = textOf(options.turns, 0, 99);
      for (let exchange = 0; exchange < options.warmupExchanges; exchange++) {
        await warmup.save(text(2 * exchange), text(2 * exchange + 1));
        await warmup.settle?.();
        await warmup.load();
      }
      log(`  ${system.label}: warmed up (${options.warmupExchanges} exchanges)`);
    }
    for (const size of options.sizes) {
      if (size % 2 !== 0) throw new TypeError(`sizes must be even (exchanges of two turns), got ${size}`);
      log(`  ${size.toLocaleString('en-US')} turns:`);
      const figures = await measureSize(opened, size, options);
      for (const result of results) {
        const at = figures.get(result.key);
        if (at) result.sizes.push(at);
      }
    }
  } finally {
    for (const system of opened) await system.close();
  }
  return results;
}

/** The package versions the figures belong to, and the PostgreSQL server's. */
export async function comparisonVersions(root: string, postgresUrl: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of [
    '@langchain/langgraph',
    '@langchain/langgraph-checkpoint-sqlite',
    '@langchain/langgraph-checkpoint-postgres',
    '@langchain/core',
    'better-sqlite3',
    'pg',
    'fastify',
  ]) {
    const manifest = JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8'));
    out[name] = String((manifest as { version?: unknown }).version);
  }
  out['PostgreSQL'] = await postgresVersion(postgresUrl);
  return out;
}

/** The parameters of a full and a quick run: `compare` for {@link runLangGraphComparison}, `http` for the ceiling. */
export const COMPARE_PARAMS = {
  full: {
    compare: {
      sizes: [10, 100, 1000, 10_000],
      saveSamples: 100,
      seededSamples: 20,
      loadWarmup: 10,
      loadIterations: 200,
      loadBudgetSeconds: 15,
      capSeconds: 300,
      warmupExchanges: 20,
      recentTurns: 20,
    },
    http: { connections: [10], durationSeconds: 5, rounds: 2, warmupSeconds: 2 },
  },
  quick: {
    compare: {
      sizes: [10, 100, 1000],
      saveSamples: 50,
      seededSamples: 20,
      loadWarmup: 5,
      loadIterations: 100,
      loadBudgetSeconds: 5,
      capSeconds: 60,
      warmupExchanges: 10,
      recentTurns: 20,
    },
    http: { connections: [10], durationSeconds: 3, rounds: 1, warmupSeconds: 1 },
  },
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      docs: { type: 'boolean', default: false },
      'no-http': { type: 'boolean', default: false },
      'cap-seconds': { type: 'string' },
      from: { type: 'string' },
    },
  });
  const root = path.resolve(import.meta.dirname, '..');
  if (values.from !== undefined) {
    // Render the page and charts again from saved figures (e.g. after the page's layout changed).
    const saved = JSON.parse(readFileSync(path.resolve(values.from), 'utf8')) as LangGraphComparison;
    const written = writeComparisonDocs(saved, path.join(root, 'docs'));
    process.stdout.write(`wrote ${written.map((file) => path.relative(root, file)).join(', ')}\n`);
    return;
  }
  const mode = values.quick ? 'quick' : 'full';
  const params = structuredClone(COMPARE_PARAMS[mode]);
  if (values['cap-seconds'] !== undefined) {
    const cap = Number(values['cap-seconds']);
    if (!(cap > 0)) throw new TypeError('--cap-seconds takes a positive number');
    params.compare.capSeconds = cap;
  }
  const args = process.argv.slice(2);
  const command = `node --import tsx bench/langgraph-compare.ts${args.length > 0 ? ` ${args.join(' ')}` : ''}`;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = performance.now();
  const machine = machineInfo();
  const turns = loadClinicalTurns();
  const postgresUrl = process.env['CONTINUUM_TEST_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';
  log(`${command}: ${machine.cpuModel} × ${machine.cores}, Node ${machine.node}, ${turns.length} clinical turns`);

  log('conversations kept by LangGraph checkpointers and by Continuum:');
  // Ctrl-C stops between two operations, so the systems still close and remove their schemas and files.
  const stop = new AbortController();
  for (const name of ['SIGINT', 'SIGTERM'] as const)
    process.once(name, () => stop.abort(new Error(`${name}: stopped`)));
  const systems = await runLangGraphComparison({ ...params.compare, turns, postgresUrl, log, signal: stop.signal });
  let throughput: ThroughputFigures[] | undefined;
  let throughputError: string | undefined;
  if (!values['no-http']) {
    log('HTTP ceiling (bare Fastify route) and appends over HTTP:');
    try {
      throughput = await runAppendThroughput({ ...params.http, turns, root, log });
    } catch (error) {
      // The comparison above stands on its own; say what failed instead of losing it.
      throughputError = error instanceof Error ? error.message : String(error);
      log(`  failed: ${throughputError}`);
    }
  }
  const results: LangGraphComparison = {
    mode,
    command,
    date: new Date().toISOString(),
    wallSeconds: elapsed(started),
    machine,
    loadAverageAtEnd: os.loadavg().map((value) => Math.round(value * 100) / 100),
    versions: await comparisonVersions(root, postgresUrl),
    data: { files: [...DATA_FILES], turns: turns.length, meanChars: meanLength(turns), citation: DATA_CITATION },
    params,
    systems,
    ...(throughput ? { throughput } : {}),
    ...(throughputError ? { throughputError } : {}),
  };
  if (mode === 'full' || values.docs) {
    const written = writeComparisonDocs(results, path.join(root, 'docs'));
    log(`wrote ${written.map((file) => path.relative(root, file)).join(', ')}`);
  }
  process.stdout.write(consoleReport(results));
  // fetch (the HTTP part) keeps sockets alive for a while after the last call.
  process.exit(0);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
