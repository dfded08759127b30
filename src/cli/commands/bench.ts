import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type CliIo, EXIT, UsageError } from '../io.ts';

/** The repository root: `bench/` and `node_modules/` live there. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const RUNNER = 'bench/run.ts';

/**
 * The parts of `bench/run.ts` (its `PARTS`), in its order; `--only` takes
 * one. Kept here so a wrong name is a usage error before minutes of
 * set-up; `test/cli/bench.test.ts` checks the two lists agree.
 */
export const BENCH_PARTS = ['state-load', 'throughput', 'compliance', 'context', 'sse', 'stores', 'tokens', 'sync'];

export const benchHelp = `continuum bench [--quick] [--only <part>] [--name <name>] [--readme] [--cpu-prof | --no-cpu-prof]

Run the benchmark suite (bench/run.ts, what npm run bench runs) in a child
process, node --import tsx bench/run.ts, from the repository root. Its output
streams through (progress on stderr, the tables on stdout) and its exit code
is this command's.

What it measures (--only runs one part):
  state-load   loading a conversation's state (chain check + 20 recent turns)
               at 10 to 10,000 turns, cold and warm
  throughput   HTTP appends per second against a real server process,
               beside a bare Fastify route (with a CPU profile on a miss)
  compliance   what encryption at rest and the audit trail cost appends
  context      building the working context at 100 vs 10,000 turns
  sse          1,000 concurrent streamed replies on one node, and the time
               Continuum adds before a reply's first delta
  stores       the state-load and append figures on SQLite, PostgreSQL and
               DynamoDB (dynalite)
  tokens       token requests the client SDK saves over an 8-hour session,
               and 10,000 refreshes with races
  sync         WebSocket sync latency, publish to receive, across nodes

Where the results go: the tables are printed; the raw figures are written to
bench/results/<name>.json (name: full, or quick with --quick); a full run of
every part (or --readme) also rewrites bench/README.md, which explains each
table. bench/README.md ends with how to run it.

  --quick        smaller sizes and one round (minutes instead of ~9 on 2 cores)
  --only         one part: ${BENCH_PARTS.join(', ')}
  --name         the results file's name (letters, digits, ".", "_", "-")
  --readme       rewrite bench/README.md even for a partial or quick run
  --cpu-prof     always profile an appends run (default: only when the
                 throughput ratio misses its target); --no-cpu-prof never

It needs the repository (bench/, node_modules) and the clinical text in
../shared/data beside it; stores and sync use PostgreSQL and Redis at
CONTINUUM_TEST_DATABASE_URL and CONTINUUM_TEST_REDIS_URL (default on
127.0.0.1). Timings are of this machine: run it on an otherwise idle one.

Exit codes: the benchmark's (0 ok, 1 failure), 2 usage error.`;

/** `continuum bench`: see {@link benchHelp}. */
export async function bench(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string' },
      name: { type: 'string' },
      readme: { type: 'boolean' },
      'cpu-prof': { type: 'boolean' },
      'no-cpu-prof': { type: 'boolean' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`bench takes no arguments; got ${positionals.join(' ')}`);
  if (values.only !== undefined && !BENCH_PARTS.includes(values.only)) {
    throw new UsageError(`--only takes one of ${BENCH_PARTS.join(', ')}`);
  }
  if (values.name !== undefined && !/^[\w.-]+$/.test(values.name)) {
    throw new UsageError('--name takes letters, digits, ".", "_" and "-"');
  }
  if (values['cpu-prof'] && values['no-cpu-prof'])
    throw new UsageError('--cpu-prof and --no-cpu-prof exclude each other');
  if (!existsSync(path.join(ROOT, RUNNER))) {
    io.err(`continuum bench: ${RUNNER} is not in ${ROOT}; the benchmarks run from a checkout of the repository`);
    return EXIT.failure;
  }
  // The options were checked above; they go to bench/run.ts as given.
  return runChild([process.execPath, '--import', 'tsx', RUNNER, ...args], io);
}

/** Runs `argv` in the repository root, streaming its output to `io`; resolves with its exit code. */
function runChild(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv as [string, ...string[]];
  return new Promise((resolve) => {
    const child = spawn(command, rest, {
      cwd: ROOT,
      env: io.env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (io.stdout ? io.stdout.write(chunk) : lines(chunk, io.out)));
    child.stderr.on('data', (chunk: string) => (io.stderr ? io.stderr.write(chunk) : lines(chunk, io.err)));
    child.once('error', (error) => {
      io.err(`continuum bench: could not start ${command}: ${error.message}`);
      resolve(EXIT.failure);
    });
    child.once('close', (code, signal) => {
      // A benchmark killed by a signal exits as a shell would report it: 128 + the signal's number.
      resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : EXIT.failure));
    });
  });
}

/** Output for an `io` without raw streams: chunk by chunk, as lines (a chunk may end mid-line; fine for logs). */
function lines(chunk: string, write: (line: string) => void): void {
  for (const line of chunk.replace(/\n$/, '').split('\n')) write(line);
}
