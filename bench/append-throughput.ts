/**
 * HTTP append throughput: autocannon against a real `continuum serve`
 * process, each connection appending to its own conversation and tracking
 * its own `expectedTurn`, measured against a bare Fastify hello route
 * (bench/bare-server.ts) with the same load settings in the same run. The
 * two sides take turns, several rounds, and the medians are reported.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon, { type Result } from 'autocannon';
import type { ClinicalTurn } from './lib/clinical-text.ts';
import { type ProfileSummary, summarizeCpuProfile } from './lib/cpu-profile.ts';
import { cleanEnv, freePort, type ServerProcess, spawnServer } from './lib/processes.ts';
import { median } from './lib/stats.ts';

export interface ThroughputOptions {
  /** Connection counts to measure, each with its own rounds. */
  connections: number[];
  durationSeconds: number;
  /** Runs per side per connection count, interleaved with the other side. */
  rounds: number;
  /** An unrecorded run of each side first, so both are JIT-warm. */
  warmupSeconds: number;
  turns: readonly ClinicalTurn[];
  /** The repository root (where bin/ and bench/ are). */
  root: string;
  log?: (line: string) => void;
}

export interface RunFigures {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  responses2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export interface AppendRunFigures extends RunFigures {
  /** Turns the server holds after the run (read back), against the 201s the clients saw. */
  turnsStored: number;
  created201: number;
  conflicts409: number;
}

export interface ThroughputFigures {
  connections: number;
  durationSeconds: number;
  /** Each field the median of its own runs. */
  bare: { median: RunFigures; runs: RunFigures[] };
  appends: { median: AppendRunFigures; runs: AppendRunFigures[] };
  /** median appends req/s ÷ median bare req/s. */
  ratio: number;
  roundRatios: number[];
}

export interface Session {
  subject: string;
  token: string;
}

function runFigures(result: Result): RunFigures {
  return {
    requestsPerSecond: result.requests.average,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMaxMs: result.latency.max,
    responses2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

function medianOf<T extends RunFigures>(runs: T[]): T {
  const first = runs[0]!;
  const out = {} as Record<string, number>;
  for (const key of Object.keys(first)) {
    out[key] = median(runs.map((run) => (run as unknown as Record<string, number>)[key]!));
  }
  return out as unknown as T;
}

async function call(
  baseUrl: string,
  method: string,
  url: string,
  token: string,
  body: unknown,
  expect: number,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${baseUrl}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status !== expect) throw new Error(`${method} ${url}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** `continuum serve` on a temp data dir, rate and session limits off; `extraEnv` adds or overrides settings. */
export async function startContinuum(
  root: string,
  extraNodeArgs: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<ServerProcess & { dataDir: string; adminToken: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-bench-http-'));
  const adminToken = `bench_${randomBytes(24).toString('base64url')}`;
  const port = await freePort();
  const server = await spawnServer({
    name: 'continuum serve',
    args: [...extraNodeArgs, path.join(root, 'bin/continuum.mjs'), 'serve'],
    cwd: root,
    port,
    readyPath: '/healthz',
    env: cleanEnv({
      CONTINUUM_HOST: '127.0.0.1',
      CONTINUUM_PORT: String(port),
      CONTINUUM_DATA_DIR: dataDir,
      CONTINUUM_ADMIN_TOKEN: adminToken,
      CONTINUUM_RATE_LIMIT_PER_TENANT: '0',
      CONTINUUM_RATE_LIMIT_PER_SUBJECT: '0',
      CONTINUUM_MAX_SESSIONS_PER_TENANT: '0',
      CONTINUUM_LOG_LEVEL: 'warn',
      ...extraEnv,
    }),
  });
  return {
    ...server,
    dataDir,
    adminToken,
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A tenant and one subject (with its access token) per connection. */
export async function createSessions(baseUrl: string, adminToken: string, count: number): Promise<Session[]> {
  const tenant = await call(baseUrl, 'POST', '/v1/admin/tenants', adminToken, { name: 'bench-throughput' }, 201);
  const sessions: Session[] = [];
  for (let i = 0; i < count; i++) {
    const subject = `bench-client-${i}`;
    const response = await fetch(`${baseUrl}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'api_key', api_key: tenant['apiKey'], subject }),
    });
    const body = (await response.json()) as { access_token?: string };
    if (response.status !== 200 || body.access_token === undefined) {
      throw new Error(`token for ${subject}: ${response.status} ${JSON.stringify(body)}`);
    }
    sessions.push({ subject, token: body.access_token });
  }
  return sessions;
}

/** One autocannon run: every connection appends to a new conversation of its own. */
export async function runAppends(
  baseUrl: string,
  sessions: Session[],
  durationSeconds: number,
  turns: readonly ClinicalTurn[],
): Promise<AppendRunFigures> {
  const states: (Session & { id: string; turn: number; next: number; created: number; conflicts: number })[] = [];
  for (const [index, session] of sessions.entries()) {
    const conversation = await call(baseUrl, 'POST', '/v1/conversations', session.token, { title: 'bench' }, 201);
    states.push({
      ...session,
      id: String(conversation['id']),
      turn: 0,
      next: index * 331,
      created: 0,
      conflicts: 0,
    });
  }
  let assigned = 0;
  const result = await autocannon({
    url: baseUrl,
    connections: states.length,
    duration: durationSeconds,
    // autocannon resets a request's `context` each time it loops over the requests,
    // so each connection's state lives in a closure of its own instead.
    setupClient(client) {
      const state = states[assigned++ % states.length]!;
      client.setRequests([
        {
          method: 'POST',
          path: `/v1/conversations/${state.id}/turns`,
          headers: { authorization: `Bearer ${state.token}`, 'content-type': 'application/json' },
          setupRequest(request) {
            const source = turns[state.next++ % turns.length]!;
            return {
              ...request,
              body: JSON.stringify({ role: source.role, content: source.content, expectedTurn: state.turn }),
            };
          },
          onResponse(status, body) {
            if (status === 201) {
              state.turn = (JSON.parse(body) as { turn: { number: number } }).turn.number;
              state.created++;
            } else if (status === 409) {
              state.turn = (JSON.parse(body) as { currentTurn: number }).currentTurn;
              state.conflicts++;
            }
          },
        },
      ]);
    },
  });
  let turnsStored = 0;
  for (const state of states) {
    const conversation = await call(baseUrl, 'GET', `/v1/conversations/${state.id}`, state.token, undefined, 200);
    turnsStored += Number(conversation['turn']);
  }
  return {
    ...runFigures(result),
    turnsStored,
    created201: states.reduce((total, state) => total + state.created, 0),
    conflicts409: states.reduce((total, state) => total + state.conflicts, 0),
  };
}

async function runBare(baseUrl: string, connections: number, durationSeconds: number): Promise<RunFigures> {
  return runFigures(await autocannon({ url: `${baseUrl}/`, connections, duration: durationSeconds }));
}

const describe = (figures: RunFigures) =>
  `${figures.requestsPerSecond.toFixed(0)} req/s, p50 ${figures.latencyP50Ms} ms, p99 ${figures.latencyP99Ms} ms, non-2xx ${figures.non2xx}`;

export async function runAppendThroughput(options: ThroughputOptions): Promise<ThroughputFigures[]> {
  const log = options.log ?? (() => {});
  const maxConnections = Math.max(...options.connections);
  const continuum = await startContinuum(options.root);
  const barePort = await freePort();
  const bare = await spawnServer({
    name: 'bare fastify',
    args: ['--import', 'tsx', path.join(options.root, 'bench/bare-server.ts'), String(barePort)],
    cwd: options.root,
    port: barePort,
    readyPath: '/',
    env: cleanEnv({}),
  });
  const figures: ThroughputFigures[] = [];
  try {
    const sessions = await createSessions(continuum.baseUrl, continuum.adminToken, maxConnections);
    if (options.warmupSeconds > 0) {
      await runBare(bare.baseUrl, maxConnections, options.warmupSeconds);
      await runAppends(continuum.baseUrl, sessions, options.warmupSeconds, options.turns);
      log(`  warmed up both servers (${options.warmupSeconds} s each)`);
    }
    for (const connections of options.connections) {
      const bareRuns: RunFigures[] = [];
      const appendRuns: AppendRunFigures[] = [];
      for (let round = 0; round < options.rounds; round++) {
        // Alternate which side goes first, so drift in machine load hits both alike.
        const order = round % 2 === 0 ? (['bare', 'appends'] as const) : (['appends', 'bare'] as const);
        for (const side of order) {
          if (side === 'bare') {
            const run = await runBare(bare.baseUrl, connections, options.durationSeconds);
            bareRuns.push(run);
            log(`  c=${connections} round ${round + 1} bare:    ${describe(run)}`);
          } else {
            const run = await runAppends(
              continuum.baseUrl,
              sessions.slice(0, connections),
              options.durationSeconds,
              options.turns,
            );
            appendRuns.push(run);
            log(`  c=${connections} round ${round + 1} appends: ${describe(run)}, 409s ${run.conflicts409}`);
          }
        }
      }
      const bareMedian = medianOf(bareRuns);
      const appendMedian = medianOf(appendRuns);
      figures.push({
        connections,
        durationSeconds: options.durationSeconds,
        bare: { median: bareMedian, runs: bareRuns },
        appends: { median: appendMedian, runs: appendRuns },
        ratio: appendMedian.requestsPerSecond / bareMedian.requestsPerSecond,
        roundRatios: appendRuns.map((run, i) => run.requestsPerSecond / bareRuns[i]!.requestsPerSecond),
      });
    }
  } finally {
    await Promise.all([continuum.stop(), bare.stop()]);
  }

  return figures;
}

export interface ProfileOptions {
  root: string;
  /** Where `node --cpu-prof` writes the profile (kept, to open in Chrome DevTools). */
  dir: string;
  connections: number;
  durationSeconds: number;
  turns: readonly ClinicalTurn[];
  log?: (line: string) => void;
}

/**
 * One appends run against a server started with `--cpu-prof`: where a
 * request's time goes. Profiling slows the server, so these figures are not
 * throughput figures.
 */
export async function profileAppends(options: ProfileOptions): Promise<ProfileSummary & { file: string }> {
  const log = options.log ?? (() => {});
  mkdirSync(options.dir, { recursive: true });
  const profiled = await startContinuum(options.root, ['--cpu-prof', `--cpu-prof-dir=${options.dir}`]);
  const before = new Set(readdirSync(options.dir));
  // Only the samples taken during the load count, not start-up and shutdown.
  const window = { fromMs: 0, toMs: 0 };
  try {
    const sessions = await createSessions(profiled.baseUrl, profiled.adminToken, options.connections);
    window.fromMs = performance.now() - profiled.spawnedAt;
    const run = await runAppends(profiled.baseUrl, sessions, options.durationSeconds, options.turns);
    window.toMs = performance.now() - profiled.spawnedAt;
    log(`  profiled appends run (c=${options.connections}): ${describe(run)}`);
  } finally {
    await profiled.stop();
  }
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (tsx's loader has its own).
  const written = readdirSync(options.dir).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f) && !before.has(f));
  if (written.length !== 1) {
    throw new Error(`expected one new main-thread CPU profile in ${options.dir}, found ${written.length}`);
  }
  const file = path.join(options.dir, written[0]!);
  return { file, ...summarizeCpuProfile(file, { root: options.root, window }) };
}
