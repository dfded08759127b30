/**
 * `npm run bench`: state load, append throughput, what encryption and audit
 * cost, context load, concurrent SSE replies, the time added to the first
 * delta, the same state-load and append figures on every store and the
 * token requests the client SDK saves and WebSocket sync latency, printed as tables, written to bench/results/<name>.json and (full
 * runs) bench/README.md.
 *
 *   npm run bench [-- --quick] [--only state-load|throughput|compliance|context|sse|stores|tokens|sync] [--name N] [--cpu-prof | --no-cpu-prof] [--readme]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { profileAppends, runAppendThroughput } from './append-throughput.ts';
import { runComplianceCost } from './compliance-cost.ts';
import { runContextLoad } from './context-load.ts';
import { runFirstDelta } from './first-delta.ts';
import { DATA_CITATION, DATA_FILES, loadClinicalTurns, meanLength } from './lib/clinical-text.ts';
import { machineInfo } from './lib/machine.ts';
import { type BenchResults, consoleReport, readme } from './lib/report.ts';
import { runSseLoad } from './sse-load.ts';
import { buildConversations, runStateLoad } from './state-load.ts';
import { runStoreComparison } from './store-compare.ts';
import { runSyncLatency } from './sync-latency.ts';
import { runTokenSavings } from './token-savings.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TARGETS = {
  stateLoadP99MsAt1000Turns: 5,
  appendToBareRatio: 0.25,
  complianceThroughputCost: 0.25,
  contextLoadRatio: 1.25,
  firstDeltaAddedP99Ms: 5,
};
const PARTS = ['state-load', 'throughput', 'compliance', 'context', 'sse', 'stores', 'tokens', 'sync'] as const;

// The full run is meant to stay under about 15 minutes on the 2-core machine in the README.
const PARAMS = {
  full: {
    stateLoad: {
      sizes: [10, 100, 1000, 10_000],
      coldRuns: 5,
      warmupIterations: 100,
      warmIterations: 1000,
      recentTurns: 20,
    },
    throughput: { connections: [10, 50], durationSeconds: 5, rounds: 2, warmupSeconds: 2 },
    profile: { connections: 50, durationSeconds: 5 },
    compliance: {
      rounds: 2,
      writers: 50,
      appendsPerWriter: 40,
      warmupAppendsPerWriter: 10,
      stateLoadTurns: 500,
      warmupIterations: 100,
      warmIterations: 1000,
      recentTurns: 20,
      http: { connections: 50, durationSeconds: 5, warmupSeconds: 2 },
    },
    context: { sizes: [100, 10_000], coldRuns: 3, warmupIterations: 50, rounds: 5, iterationsPerRound: 200 },
    sse: { replies: 1000, streamsPerTenant: 5, wordDelayMs: 400, warmupReplies: 0, deadlineSeconds: 150 },
    tokens: { refreshes: 10_000, callers: 5 },
    sync: { sockets: 1000, conversations: 100, events: 500, intervalMs: 5 },
    stores: {
      turns: 1000,
      concurrentConversations: 10,
      concurrentAppends: 50,
      warmupIterations: 100,
      warmIterations: 1000,
      recentTurns: 20,
    },
    firstDelta: {
      firstChunkDelayMs: 25,
      // A p99 over 1,000 requests is the 10th-slowest, not the 3rd: one stall of the machine moves it far less.
      requests: 1000,
      concurrency: 10,
      concurrentRequests: 100,
      warmupRequests: 10,
      // Each conversation ends about 120 turns long, as with 300 requests over 10: the prompt, the index and the
      // summary a request works with are the same size whatever the sample.
      conversations: 30,
      seedTurns: 20,
    },
  },
  quick: {
    stateLoad: { sizes: [10, 100, 1000], coldRuns: 3, warmupIterations: 50, warmIterations: 300, recentTurns: 20 },
    throughput: { connections: [50], durationSeconds: 3, rounds: 1, warmupSeconds: 1 },
    profile: { connections: 50, durationSeconds: 3 },
    compliance: {
      rounds: 1,
      writers: 50,
      appendsPerWriter: 20,
      warmupAppendsPerWriter: 5,
      stateLoadTurns: 300,
      warmupIterations: 50,
      warmIterations: 300,
      recentTurns: 20,
      http: { connections: 50, durationSeconds: 3, warmupSeconds: 1 },
    },
    context: { sizes: [100, 1000], coldRuns: 2, warmupIterations: 20, rounds: 3, iterationsPerRound: 100 },
    sse: { replies: 200, streamsPerTenant: 5, wordDelayMs: 100, warmupReplies: 0, deadlineSeconds: 60 },
    tokens: { refreshes: 1000, callers: 5 },
    sync: { sockets: 200, conversations: 20, events: 100, intervalMs: 5 },
    stores: {
      turns: 200,
      concurrentConversations: 10,
      concurrentAppends: 10,
      warmupIterations: 50,
      warmIterations: 300,
      recentTurns: 20,
    },
    firstDelta: {
      firstChunkDelayMs: 25,
      requests: 60,
      concurrency: 10,
      concurrentRequests: 30,
      warmupRequests: 5,
      conversations: 10,
      seedTurns: 10,
    },
  },
};

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    name: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'no-cpu-prof': { type: 'boolean', default: false },
    readme: { type: 'boolean', default: false },
  },
});
const only = values.only;
if (only !== undefined && !(PARTS as readonly string[]).includes(only)) {
  throw new TypeError(`--only takes ${PARTS.join(', ')}`);
}
const runs = (part: (typeof PARTS)[number]) => only === undefined || only === part;
const mode = values.quick ? 'quick' : 'full';
const name = values.name ?? mode;
if (!/^[\w.-]+$/.test(name)) throw new TypeError('--name takes letters, digits, ".", "_" and "-"');
const params = PARAMS[mode];
const extraArgs = process.argv.slice(2);
const command = `npm run bench${extraArgs.length > 0 ? ` -- ${extraArgs.join(' ')}` : ''}`;
const log = (line: string) => process.stderr.write(`${line}\n`);

const started = performance.now();
const machine = machineInfo();
const turns = loadClinicalTurns();
log(`${command}: ${machine.cpuModel} × ${machine.cores}, Node ${machine.node}, ${turns.length} clinical turns`);

const results: BenchResults = {
  name,
  mode,
  command,
  date: new Date().toISOString(),
  wallSeconds: 0,
  machine,
  loadAverageAtEnd: [],
  data: { files: [...DATA_FILES], turns: turns.length, meanChars: meanLength(turns), citation: DATA_CITATION },
  targets: TARGETS,
  params,
};

// First, while this process (the load generator) holds nothing of the other parts: a tail latency measured
// later would also time the collection of their garbage.
if (runs('sse')) {
  log('time added to the first delta:');
  const client = process.env.FIRST_DELTA_CLIENT;
  if (client !== undefined && client !== 'http' && client !== 'fetch') {
    throw new TypeError('FIRST_DELTA_CLIENT takes http or fetch');
  }
  results.firstDelta = await runFirstDelta({ ...params.firstDelta, ...(client ? { client } : {}), turns, log });
}

// State load and context load measure the same conversations, built once (a 10,000-turn one takes minutes).
const sizes = [
  ...new Set([...(runs('state-load') ? params.stateLoad.sizes : []), ...(runs('context') ? params.context.sizes : [])]),
].sort((a, b) => a - b);
if (sizes.length > 0) log('conversations, appended one turn at a time:');
const built = sizes.length > 0 ? await buildConversations(sizes, turns, log) : undefined;
try {
  if (runs('state-load') && built) {
    log('state load:');
    results.stateLoad = await runStateLoad({ ...params.stateLoad, turns, log }, built);
  }
  if (runs('context') && built) {
    log('context load:');
    results.contextLoad = await runContextLoad({ ...params.context, log }, built);
  }
} finally {
  built?.remove();
}
if (runs('throughput')) {
  log('append throughput:');
  results.throughput = await runAppendThroughput({ ...params.throughput, turns, root: ROOT, log });
  const missed = results.throughput.some((f) => f.ratio < TARGETS.appendToBareRatio);
  if (values['cpu-prof'] || (missed && !values['no-cpu-prof'])) {
    log(`cpu profile${values['cpu-prof'] ? '' : ' (the ratio misses its target)'}:`);
    const profile = await profileAppends({
      ...params.profile,
      root: ROOT,
      dir: mkdtempSync(path.join(tmpdir(), 'continuum-bench-profile-')),
      turns,
      log,
    });
    results.profile = { ...profile, connections: params.profile.connections };
  }
}

if (runs('compliance')) {
  log('compliance cost (encryption + audit on vs off):');
  results.compliance = await runComplianceCost({ ...params.compliance, turns, root: ROOT, log });
}

if (runs('sse')) {
  log('concurrent SSE replies:');
  results.sseLoad = await runSseLoad({ ...params.sse, turns, root: ROOT, log });
}

if (runs('stores')) {
  log('the same figures on each store:');
  results.stores = await runStoreComparison({ ...params.stores, text: turns, log });
}

if (runs('sync')) {
  log('WebSocket sync, publish to receive:');
  results.sync = await runSyncLatency({
    ...params.sync,
    redisUrl: process.env.CONTINUUM_TEST_REDIS_URL || 'redis://127.0.0.1:6379',
    databaseUrl: process.env.CONTINUUM_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
    log,
  });
}

if (runs('tokens')) {
  log('token requests saved by the client SDK:');
  results.tokens = (await runTokenSavings({ ...params.tokens, log })).figures;
}

results.wallSeconds = (performance.now() - started) / 1000;
results.loadAverageAtEnd = os.loadavg().map((value) => Math.round(value * 100) / 100);

const resultFile = `results/${name}.json`;
mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(
  path.join(ROOT, 'bench', resultFile),
  `${JSON.stringify(
    results,
    (_key, value: unknown) =>
      typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value,
    2,
  )}\n`,
);
process.stdout.write(`${consoleReport(results)}\n\nWrote bench/${resultFile}`);
const complete = [
  results.stateLoad,
  results.throughput,
  results.compliance,
  results.contextLoad,
  results.sseLoad,
  results.firstDelta,
  results.stores,
  results.tokens,
  results.sync,
].every((part) => part !== undefined);
if ((mode === 'full' && complete) || values.readme) {
  writeFileSync(path.join(ROOT, 'bench/README.md'), readme(results, resultFile));
  process.stdout.write(' and bench/README.md');
}
process.stdout.write(` in ${Math.round(results.wallSeconds)} s.\n`);
// fetch keeps sockets alive for a while after the last call.
process.exit(0);
