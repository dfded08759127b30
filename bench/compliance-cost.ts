/**
 * What the compliance core costs (issue 3): append throughput and warm state
 * load with encryption at rest (ADR-008) and the audit trail (ADR-007) "on",
 * as production builds the app, against "off", the same app with the
 * benchmark-only baselines of bench/lib/compliance-baselines.ts (a plaintext
 * cipher, an audit trail that writes nothing). Everything else — the turn
 * hash chain, SQLite, group commit, the service layer — is the same on both.
 *
 * In-process through the service layer, like bench/state-load.ts, each run
 * on a fresh data dir; the variants take turns (on, off, off, on, on, off...)
 * and the medians are compared. Optionally the HTTP view: autocannon against
 * bench/compliance-server.ts, one process per variant.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Principal } from '../src/auth/principal.ts';
import { type AppendRunFigures, createSessions, runAppends } from './append-throughput.ts';
import type { ClinicalTurn } from './lib/clinical-text.ts';
import { createPlaintextCipher, SilentAuditTrail } from './lib/compliance-baselines.ts';
import { cleanEnv, freePort, type ServerProcess, spawnServer } from './lib/processes.ts';
import { median } from './lib/stats.ts';
import {
  createBenchTenant,
  type Instance,
  type InstanceOverrides,
  type LoadFigures,
  type LoadSample,
  loadFigures,
  loadState,
  openInstance,
} from './state-load.ts';

export type Variant = 'on' | 'off';

export interface ComplianceOptions {
  /** Runs per variant, the variants taking turns. */
  rounds: number;
  /** Concurrent writers, each appending to its own conversation. */
  writers: number;
  appendsPerWriter: number;
  /** An untimed run of each variant first (appends per writer), so both are JIT-warm. */
  warmupAppendsPerWriter: number;
  /** Length of the conversation whose state is loaded. */
  stateLoadTurns: number;
  warmupIterations: number;
  warmIterations: number;
  recentTurns: number;
  /** The HTTP view; omitted: in-process only. */
  http?: { connections: number; durationSeconds: number; warmupSeconds: number };
  turns: readonly ClinicalTurn[];
  /** The repository root (where bench/ is). */
  root: string;
  log?: (line: string) => void;
}

export interface AppendFigures {
  appends: number;
  ms: number;
  appendsPerSecond: number;
  /** Process CPU time (all threads) per append: less sensitive than wall time to a busy machine. */
  cpuMsPerAppend: number;
}

export interface ComplianceRun {
  variant: Variant;
  round: number;
  appends: AppendFigures;
  /** Building the state-load conversation: one writer, one append at a time. */
  build: { appendsPerSecond: number };
  stateLoad: LoadFigures;
}

export interface VariantMedians {
  appendsPerSecond: number;
  cpuMsPerAppend: number;
  stateLoadP50: number;
  stateLoadP99: number;
}

export interface ComplianceFigures {
  writers: number;
  appendsPerWriter: number;
  stateLoadTurns: number;
  /** In the order they ran. */
  runs: ComplianceRun[];
  on: VariantMedians;
  off: VariantMedians;
  /** 1 − median on appends/s ÷ median off appends/s: the share of throughput compliance costs. */
  throughputCost: number;
  /** The same per round, from the round's own on and off runs. */
  roundThroughputCosts: number[];
  /** 1 − off ÷ on CPU ms per append: the share of an append's CPU time compliance takes. */
  cpuCost: number;
  roundCpuCosts: number[];
  /** Median on ÷ median off warm state load. */
  stateLoadP50Ratio: number;
  stateLoadP99Ratio: number;
  roundStateLoadRatios: { p50: number; p99: number }[];
  http?: ComplianceHttpFigures;
}

export interface ComplianceHttpFigures {
  connections: number;
  durationSeconds: number;
  on: { median: number; runs: AppendRunFigures[] };
  off: { median: number; runs: AppendRunFigures[] };
  /** 1 − median on req/s ÷ median off req/s. */
  throughputCost: number;
  roundThroughputCosts: number[];
}

const OVERRIDES: Record<Variant, () => InstanceOverrides> = {
  on: () => ({}),
  off: () => ({ cipher: createPlaintextCipher(), auditTrail: (options) => new SilentAuditTrail(options) }),
};

/** on, off, then off, on, then on, off...: drift in machine load hits both alike. */
const orderOf = (round: number): Variant[] => (round % 2 === 0 ? ['on', 'off'] : ['off', 'on']);

async function appendConcurrently(
  instance: Instance,
  principal: Principal,
  options: ComplianceOptions,
  perWriter: number,
): Promise<AppendFigures> {
  const { services } = instance;
  const writers: { principal: Principal; id: string; next: number }[] = [];
  for (let i = 0; i < options.writers; i++) {
    const writer = { ...principal, subject: `bench-writer-${i}` };
    const { conversation } = await services.conversations.create(writer, { title: `Visit ${i}` });
    writers.push({ principal: writer, id: conversation.id, next: i * 331 });
  }
  const cpuStarted = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    writers.map(async (writer) => {
      for (let turn = 0; turn < perWriter; turn++) {
        const source = options.turns[writer.next++ % options.turns.length]!;
        const result = await services.conversations.append(writer.principal, writer.id, {
          role: source.role,
          content: source.content,
          expectedTurn: turn,
        });
        if (result.turn.number !== turn + 1) throw new Error(`append to ${writer.id} got turn ${result.turn.number}`);
      }
    }),
  );
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuStarted);
  const appends = options.writers * perWriter;
  return {
    appends,
    ms,
    appendsPerSecond: (appends / ms) * 1000,
    cpuMsPerAppend: (cpu.user + cpu.system) / 1000 / appends,
  };
}

/** One variant on a fresh data dir: the concurrent appends, then warm state load. */
async function runVariant(variant: Variant, options: ComplianceOptions, perWriter: number, warmIterations: number) {
  const dataDir = mkdtempSync(path.join(tmpdir(), `continuum-bench-compliance-${variant}-`));
  const instance = await openInstance(dataDir, OVERRIDES[variant]());
  try {
    const principal = await createBenchTenant(instance.app, `bench-compliance-${variant}`);
    const appends = await appendConcurrently(instance, principal, options, perWriter);

    const { services } = instance;
    const { conversation } = await services.conversations.create(principal, { title: 'Visit transcript' });
    const started = performance.now();
    for (let turn = 0; turn < options.stateLoadTurns; turn++) {
      const source = options.turns[turn % options.turns.length]!;
      await services.conversations.append(principal, conversation.id, { ...source, expectedTurn: turn });
    }
    const build = { appendsPerSecond: (options.stateLoadTurns / (performance.now() - started)) * 1000 };
    for (let i = 0; i < options.warmupIterations; i++) {
      await loadState(services, principal, conversation.id, options.recentTurns);
    }
    const samples: LoadSample[] = [];
    for (let i = 0; i < warmIterations; i++) {
      samples.push(await loadState(services, principal, conversation.id, options.recentTurns));
    }
    return { appends, build, stateLoad: loadFigures(samples) };
  } finally {
    await instance.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function mediansOf(runs: ComplianceRun[]): VariantMedians {
  return {
    appendsPerSecond: median(runs.map((r) => r.appends.appendsPerSecond)),
    cpuMsPerAppend: median(runs.map((r) => r.appends.cpuMsPerAppend)),
    stateLoadP50: median(runs.map((r) => r.stateLoad.p50)),
    stateLoadP99: median(runs.map((r) => r.stateLoad.p99)),
  };
}

export async function runComplianceCost(options: ComplianceOptions): Promise<ComplianceFigures> {
  const log = options.log ?? (() => {});
  if (options.warmupAppendsPerWriter > 0) {
    for (const variant of orderOf(0)) {
      await runVariant(variant, options, options.warmupAppendsPerWriter, options.warmupIterations);
    }
    log(`  warmed up both variants (${options.writers} × ${options.warmupAppendsPerWriter} appends each)`);
  }
  const runs: ComplianceRun[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const variant of orderOf(round)) {
      const run = {
        variant,
        round: round + 1,
        ...(await runVariant(variant, options, options.appendsPerWriter, options.warmIterations)),
      };
      runs.push(run);
      log(
        `  round ${round + 1} ${variant.padEnd(3)}: ${run.appends.appendsPerSecond.toFixed(0)} appends/s (${run.appends.cpuMsPerAppend.toFixed(3)} CPU ms each), state load p50 ${run.stateLoad.p50.toFixed(2)} ms, p99 ${run.stateLoad.p99.toFixed(2)} ms`,
      );
    }
  }
  const of = (variant: Variant) => runs.filter((r) => r.variant === variant);
  const on = mediansOf(of('on'));
  const off = mediansOf(of('off'));
  const pairs = Array.from({ length: options.rounds }, (_, i) => ({
    on: of('on')[i]!,
    off: of('off')[i]!,
  }));
  const figures: ComplianceFigures = {
    writers: options.writers,
    appendsPerWriter: options.appendsPerWriter,
    stateLoadTurns: options.stateLoadTurns,
    runs,
    on,
    off,
    throughputCost: 1 - on.appendsPerSecond / off.appendsPerSecond,
    roundThroughputCosts: pairs.map((p) => 1 - p.on.appends.appendsPerSecond / p.off.appends.appendsPerSecond),
    cpuCost: 1 - off.cpuMsPerAppend / on.cpuMsPerAppend,
    roundCpuCosts: pairs.map((p) => 1 - p.off.appends.cpuMsPerAppend / p.on.appends.cpuMsPerAppend),
    stateLoadP50Ratio: on.stateLoadP50 / off.stateLoadP50,
    stateLoadP99Ratio: on.stateLoadP99 / off.stateLoadP99,
    roundStateLoadRatios: pairs.map((p) => ({
      p50: p.on.stateLoad.p50 / p.off.stateLoad.p50,
      p99: p.on.stateLoad.p99 / p.off.stateLoad.p99,
    })),
  };
  if (options.http) figures.http = await runHttp(options, options.http, log);
  return figures;
}

async function startVariantServer(root: string, variant: Variant): Promise<ServerProcess & { adminToken: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `continuum-bench-compliance-http-${variant}-`));
  const adminToken = `bench_${randomBytes(24).toString('base64url')}`;
  const port = await freePort();
  const server = await spawnServer({
    name: `compliance server (${variant})`,
    args: ['--import', 'tsx', path.join(root, 'bench/compliance-server.ts'), variant],
    cwd: root,
    port,
    readyPath: '/healthz',
    // The settings of bench/append-throughput.ts.
    env: cleanEnv({
      CONTINUUM_HOST: '127.0.0.1',
      CONTINUUM_PORT: String(port),
      CONTINUUM_DATA_DIR: dataDir,
      CONTINUUM_ADMIN_TOKEN: adminToken,
      CONTINUUM_RATE_LIMIT_PER_TENANT: '0',
      CONTINUUM_RATE_LIMIT_PER_SUBJECT: '0',
      CONTINUUM_MAX_SESSIONS_PER_TENANT: '0',
      CONTINUUM_LOG_LEVEL: 'warn',
    }),
  });
  return {
    ...server,
    adminToken,
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function runHttp(
  options: ComplianceOptions,
  http: NonNullable<ComplianceOptions['http']>,
  log: (line: string) => void,
): Promise<ComplianceHttpFigures> {
  const servers = {
    on: await startVariantServer(options.root, 'on'),
    off: await startVariantServer(options.root, 'off'),
  };
  try {
    const sessions = {
      on: await createSessions(servers.on.baseUrl, servers.on.adminToken, http.connections),
      off: await createSessions(servers.off.baseUrl, servers.off.adminToken, http.connections),
    };
    const run = (variant: Variant, seconds: number) =>
      runAppends(servers[variant].baseUrl, sessions[variant], seconds, options.turns);
    if (http.warmupSeconds > 0) {
      for (const variant of orderOf(0)) await run(variant, http.warmupSeconds);
      log(`  HTTP: warmed up both servers (${http.warmupSeconds} s each)`);
    }
    const runs: Record<Variant, AppendRunFigures[]> = { on: [], off: [] };
    for (let round = 0; round < options.rounds; round++) {
      for (const variant of orderOf(round)) {
        const figures = await run(variant, http.durationSeconds);
        runs[variant].push(figures);
        log(
          `  HTTP round ${round + 1} ${variant.padEnd(3)}: ${figures.requestsPerSecond.toFixed(0)} req/s, p50 ${figures.latencyP50Ms} ms, p99 ${figures.latencyP99Ms} ms, non-2xx ${figures.non2xx}`,
        );
      }
    }
    const medianOf = (variant: Variant) => median(runs[variant].map((r) => r.requestsPerSecond));
    return {
      connections: http.connections,
      durationSeconds: http.durationSeconds,
      on: { median: medianOf('on'), runs: runs.on },
      off: { median: medianOf('off'), runs: runs.off },
      throughputCost: 1 - medianOf('on') / medianOf('off'),
      roundThroughputCosts: runs.on.map((r, i) => 1 - r.requestsPerSecond / runs.off[i]!.requestsPerSecond),
    };
  } finally {
    await Promise.all([servers.on.stop(), servers.off.stop()]);
  }
}
