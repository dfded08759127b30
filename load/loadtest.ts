/**
 * The load harness's command line, shared by `npm run loadtest` (load/run.ts)
 * and `continuum loadtest` (src/cli/commands/loadtest.ts): parse the options,
 * run one scenario (or all) against real `continuum serve` processes, print a
 * summary, write `load/results/<scenario>.json` and `.md`.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LOADTEST_HELP } from './help.ts';
import { releaseSharedPostgres } from './lib/cluster.ts';
import { agent } from './lib/http.ts';
import { logger } from './lib/progress.ts';
import { finishReport, newReport, RESULTS_DIR, type ScenarioReport, writeReport } from './lib/report.ts';
import { loadAverage, type RunContext, verdict } from './lib/scenario.ts';
import { CONVERSATIONS_DEFAULTS, CONVERSATIONS_QUICK, runConversations } from './scenarios/conversations.ts';
import { LONG_DEFAULTS, LONG_QUICK, runLong } from './scenarios/long.ts';
import { runSockets, SOCKETS_DEFAULTS, SOCKETS_QUICK } from './scenarios/sockets.ts';
import { runStreams, STREAMS_DEFAULTS, STREAMS_QUICK } from './scenarios/streams.ts';

export const SCENARIOS = ['conversations', 'streams', 'sockets', 'long'] as const;
export { LOADTEST_HELP };
export type ScenarioName = (typeof SCENARIOS)[number];

export interface LoadtestIo {
  out(line: string): void;
  err(line: string): void;
}

/** Run the command line; returns the exit code. */
export async function loadtestMain(args: string[], io: LoadtestIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      scenario: { type: 'string' },
      quick: { type: 'boolean', default: false },
      conversations: { type: 'string' },
      clients: { type: 'string' },
      'think-ms': { type: 'string' },
      out: { type: 'string' },
      'no-progress': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const chosen = values.scenario;
  if (chosen === undefined || (chosen !== 'all' && !(SCENARIOS as readonly string[]).includes(chosen))) {
    io.err(`loadtest: --scenario must be one of ${SCENARIOS.join(', ')}, all\n\n${LOADTEST_HELP}`);
    return 2;
  }
  const count = (name: 'conversations' | 'clients' | 'think-ms'): number | undefined => {
    const raw = values[name];
    return raw === undefined ? undefined : Number(raw);
  };
  const overrides = { conversations: count('conversations'), clients: count('clients') };
  const thinkMs = count('think-ms');
  if (thinkMs !== undefined && !(Number.isInteger(thinkMs) && thinkMs >= 0 && thinkMs <= 600_000)) {
    io.err(`loadtest: --think-ms must be a whole number of milliseconds\n\n${LOADTEST_HELP}`);
    return 2;
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= 100_000)) {
      io.err(`loadtest: --${name} must be a whole number from 1 to 100000\n\n${LOADTEST_HELP}`);
      return 2;
    }
  }
  const names: ScenarioName[] = chosen === 'all' ? [...SCENARIOS] : [chosen as ScenarioName];
  let failed = false;
  try {
    failed = await runAll(names, args, values, overrides, thinkMs, io);
  } finally {
    // The private PostgreSQL outlives this process unless stopped; pooled keep-alive sockets would hold it open.
    await releaseSharedPostgres();
    agent.destroy();
  }
  return failed ? 1 : 0;
}

async function runAll(
  names: ScenarioName[],
  args: string[],
  values: { quick: boolean; out?: string | undefined; 'no-progress': boolean },
  overrides: { conversations?: number | undefined; clients?: number | undefined },
  thinkMs: number | undefined,
  io: LoadtestIo,
): Promise<boolean> {
  let failed = false;
  for (const name of names) {
    const command = `npm run loadtest -- ${['--scenario', name, ...args.filter((_, i) => !isScenarioArg(args, i))].join(' ')}`;
    const ctx: RunContext = { quick: values.quick, progress: !values['no-progress'], command, log: logger(true) };
    io.err(`loadtest: ${name}${values.quick ? ' (quick)' : ''}`);
    const started = performance.now();
    // A scenario that could not run to the end (a node that never came up) is a failed run, with its reason.
    const report = await runScenario(name, ctx, { ...overrides, thinkMs }).catch((error: unknown) => {
      const failed = newReport(name, ctx.quick, command);
      failed.reason = error instanceof Error ? error.message : String(error);
      failed.verdicts = [verdict('ran to the end', 'yes', failed.reason.split('\n')[0]!.slice(0, 200), false)];
      return finishReport(failed, started, loadAverage());
    });
    const file = `${name}${values.quick ? '-quick' : ''}`;
    const written = writeReport(report, values.out === undefined ? RESULTS_DIR : path.resolve(values.out), file);
    io.out(summaryLine(report));
    if (report.status === 'fail' && report.reason !== undefined) io.out(`  ${report.reason.split('\n').join('\n  ')}`);
    for (const v of report.verdicts)
      io.out(`  ${v.met ? 'met    ' : 'NOT MET'} ${v.name}: ${v.value} (target ${v.target})`);
    io.out(`  report: ${path.relative(process.cwd(), written.markdown)}`);
    if (report.status === 'fail') failed = true;
  }
  return failed;
}

function isScenarioArg(args: string[], i: number): boolean {
  return args[i] === '--scenario' || args[i - 1] === '--scenario' || args[i]!.startsWith('--scenario=');
}

/** One scenario with the quick or full parameters, counts overridden from the command line. */
export async function runScenario(
  name: ScenarioName,
  ctx: RunContext,
  overrides: { conversations?: number | undefined; clients?: number | undefined; thinkMs?: number | undefined } = {},
): Promise<ScenarioReport> {
  const think = overrides.thinkMs === undefined ? {} : { thinkMs: overrides.thinkMs };
  const conversations = overrides.conversations === undefined ? {} : { conversations: overrides.conversations };
  const clients = overrides.clients === undefined ? {} : { clients: overrides.clients };
  switch (name) {
    case 'conversations':
      return runConversations(ctx, {
        ...(ctx.quick ? CONVERSATIONS_QUICK : CONVERSATIONS_DEFAULTS),
        ...conversations,
        ...think,
      });
    case 'streams':
      return runStreams(ctx, { ...(ctx.quick ? STREAMS_QUICK : STREAMS_DEFAULTS), ...conversations, ...clients });
    case 'sockets':
      return runSockets(ctx, { ...(ctx.quick ? SOCKETS_QUICK : SOCKETS_DEFAULTS), ...conversations, ...clients });
    case 'long':
      return runLong(ctx, { ...(ctx.quick ? LONG_QUICK : LONG_DEFAULTS), ...conversations });
  }
}

/** `conversations: PASS in 93.1 s`. */
export function summaryLine(report: ScenarioReport): string {
  const status = report.status === 'not available' ? `NOT AVAILABLE (${report.reason})` : report.status.toUpperCase();
  return `${report.scenario}${report.quick ? ' (quick)' : ''}: ${status} in ${report.durationSeconds} s`;
}
