import type { ThroughputFigures } from '../append-throughput.ts';
import type { ComplianceFigures } from '../compliance-cost.ts';
import type { ContextLoadResult } from '../context-load.ts';
import type { FirstDeltaFigures } from '../first-delta.ts';
import type { SseLoadFigures } from '../sse-load.ts';
import type { StateLoadFigures } from '../state-load.ts';
import type { StoreFigures } from '../store-compare.ts';
import { type SyncLatencyFigures, syncLatencyTable } from '../sync-latency.ts';
import { type TokenSavingsFigures, report as tokenSavingsReport } from '../token-savings.ts';
import { complianceRoundsTable, complianceSection, complianceTable, complianceVerdict } from './compliance-report.ts';
import { contextLoadSection, contextLoadTable, contextLoadVerdict, contextRoundsTable } from './context-report.ts';
import type { ProfileEntry, ProfileSummary } from './cpu-profile.ts';
import type { MachineInfo } from './machine.ts';
import { int, mark, ms, pct, table } from './markdown.ts';
import { storesSection, storesTable } from './store-report.ts';
import {
  firstDeltaSection,
  firstDeltaSplitTable,
  firstDeltaTable,
  firstDeltaVerdict,
  sseLoadSection,
  sseLoadTable,
  sseLoadVerdict,
} from './streaming-report.ts';

/** Everything one `bench/run.ts` invocation measured; written to bench/results/<name>.json. */
export interface BenchResults {
  name: string;
  mode: 'full' | 'quick';
  command: string;
  date: string;
  wallSeconds: number;
  machine: MachineInfo;
  loadAverageAtEnd: number[];
  data: { files: string[]; turns: number; meanChars: number; citation: string[] };
  targets: {
    stateLoadP99MsAt1000Turns: number;
    appendToBareRatio: number;
    complianceThroughputCost: number;
    /** Largest ÷ smallest conversation's warm context load p50 still counted as "the same within noise". */
    contextLoadRatio: number;
    firstDeltaAddedP99Ms: number;
  };
  params: Record<string, unknown>;
  stateLoad?: StateLoadFigures[];
  throughput?: ThroughputFigures[];
  profile?: ProfileSummary & { file: string; connections: number };
  compliance?: ComplianceFigures;
  contextLoad?: ContextLoadResult;
  sseLoad?: SseLoadFigures;
  firstDelta?: FirstDeltaFigures;
  stores?: StoreFigures[];
  tokens?: TokenSavingsFigures;
  sync?: SyncLatencyFigures;
}

export function stateLoadTable(figures: StateLoadFigures[]): string {
  return table(
    [
      'turns',
      'cold p50 ms',
      'cold p99 ms',
      'cold max ms',
      'cold n',
      'warm p50 ms',
      'warm p99 ms',
      'warm max ms',
      'warm n',
      'build (appends/s)',
    ],
    figures.map((f) => [
      int(f.turns),
      ms(f.cold.p50),
      ms(f.cold.p99),
      ms(f.cold.max),
      String(f.cold.n),
      ms(f.warm.p50),
      ms(f.warm.p99),
      ms(f.warm.max),
      int(f.warm.n),
      int(f.build.appendsPerSecond),
    ]),
  );
}

export function stateLoadSplitTable(figures: StateLoadFigures[]): string {
  return table(
    [
      'turns',
      'cold: get p50 ms',
      'cold: 20 recent p50 ms',
      'cold: CPU p50 / p99 ms',
      'warm: get p50 ms',
      'warm: 20 recent p50 ms',
      'warm: CPU p50 / p99 ms',
    ],
    figures.map((f) => [
      int(f.turns),
      ms(f.cold.getP50),
      ms(f.cold.recentP50),
      `${ms(f.cold.cpuP50)} / ${ms(f.cold.cpuP99)}`,
      ms(f.warm.getP50),
      ms(f.warm.recentP50),
      `${ms(f.warm.cpuP50)} / ${ms(f.warm.cpuP99)}`,
    ]),
  );
}

export function throughputTable(figures: ThroughputFigures[]): string {
  return table(
    [
      'connections',
      'bare req/s',
      'appends req/s',
      'appends ÷ bare',
      'bare p50 / p99 ms',
      'appends p50 / p99 ms',
      'appends non-2xx',
      'errors + timeouts',
      'turns stored / 201s seen',
    ],
    figures.map((f) => {
      const a = f.appends.median;
      const b = f.bare.median;
      const stored = f.appends.runs.reduce((total, run) => total + run.turnsStored, 0);
      const seen = f.appends.runs.reduce((total, run) => total + run.created201, 0);
      const failures = [...f.appends.runs, ...f.bare.runs].reduce((total, run) => total + run.errors + run.timeouts, 0);
      const non2xx = f.appends.runs.reduce((total, run) => total + run.non2xx, 0);
      return [
        String(f.connections),
        int(b.requestsPerSecond),
        int(a.requestsPerSecond),
        pct(f.ratio),
        `${b.latencyP50Ms} / ${b.latencyP99Ms}`,
        `${a.latencyP50Ms} / ${a.latencyP99Ms}`,
        String(non2xx),
        String(failures),
        `${int(stored)} / ${int(seen)}`,
      ];
    }),
  );
}

export function roundsTable(figures: ThroughputFigures[]): string {
  const rounds = Math.max(...figures.map((f) => f.appends.runs.length));
  return table(
    ['connections', ...Array.from({ length: rounds }, (_, i) => `round ${i + 1}: bare / appends req/s (ratio)`)],
    figures.map((f) => [
      String(f.connections),
      ...f.appends.runs.map(
        (run, i) =>
          `${int(f.bare.runs[i]!.requestsPerSecond)} / ${int(run.requestsPerSecond)} (${pct(f.roundRatios[i]!)})`,
      ),
    ]),
  );
}

function entries(list: ProfileEntry[]): string {
  return table(
    ['', 'ms', 'share'],
    list.map((e) => [`\`${e.name}\``, String(e.ms), `${e.percent} %`]),
  );
}

export function profileSection(profile: NonNullable<BenchResults['profile']>): string {
  return [
    `One extra appends run (${profile.connections} connections) against a server started with \`node --cpu-prof\`; ${int(profile.sampledMs)} ms of samples taken during the load. Profiling slows the server: shares, not speeds.`,
    '',
    '**Self time by area** (package, `node:` module, `src/` folder; native = V8 builtins and C++ bindings such as SQLite, OpenSSL, the HTTP parser):',
    '',
    entries(profile.byArea),
    '',
    '**Functions by self time:**',
    '',
    entries(profile.topSelf),
    '',
    '**Project functions by inclusive time** (with everything they call):',
    '',
    entries(profile.topProjectInclusive),
  ].join('\n');
}

export function verdicts(results: BenchResults): string[] {
  const lines: string[] = [];
  const at1000 = results.stateLoad?.find((f) => f.turns === 1000);
  if (at1000) {
    const target = results.targets.stateLoadP99MsAt1000Turns;
    lines.push(
      `State load at 1,000 turns, target p99 < ${target} ms: warm p99 ${ms(at1000.warm.p99)} ms (${mark(at1000.warm.p99 < target)}); cold p99 ${ms(at1000.cold.p99)} ms (${mark(at1000.cold.p99 < target)}).`,
    );
  }
  for (const f of results.throughput ?? []) {
    const target = results.targets.appendToBareRatio;
    const non2xx = f.appends.runs.reduce((total, run) => total + run.non2xx, 0);
    const unacknowledged = f.appends.runs.map((run) => run.turnsStored - run.created201);
    const consistent = unacknowledged.every((extra) => extra >= 0 && extra <= f.connections);
    lines.push(
      `Appends at ${f.connections} connections: ${pct(f.ratio)} of the bare route, target ≥ ${pct(target)} (${mark(f.ratio >= target)}); non-2xx ${non2xx} (${mark(non2xx === 0)}); turns stored minus 201s seen, per run: ${unacknowledged.join(', ')} (expected 0 to ${f.connections}, one request in flight per connection when the load stops: ${consistent ? 'consistent' : 'INCONSISTENT'}).`,
    );
  }
  if (results.compliance) lines.push(complianceVerdict(results.compliance, results.targets.complianceThroughputCost));
  if (results.contextLoad) lines.push(contextLoadVerdict(results.contextLoad, results.targets.contextLoadRatio));
  if (results.sseLoad) lines.push(sseLoadVerdict(results.sseLoad));
  if (results.firstDelta) lines.push(firstDeltaVerdict(results.firstDelta, results.targets.firstDeltaAddedP99Ms));
  return lines;
}

/** The stdout report. */
export function consoleReport(results: BenchResults): string {
  const parts = [`\n== ${results.name} (${results.mode}) — ${results.command}`];
  if (results.stateLoad)
    parts.push('\nState load (ms)\n', stateLoadTable(results.stateLoad), '', stateLoadSplitTable(results.stateLoad));
  if (results.throughput)
    parts.push(
      '\nAppend throughput (medians)\n',
      throughputTable(results.throughput),
      '',
      roundsTable(results.throughput),
    );
  if (results.compliance)
    parts.push(
      '\nWhat encryption and audit cost (on vs off)\n',
      complianceTable(results.compliance),
      '',
      complianceRoundsTable(results.compliance),
    );
  if (results.contextLoad)
    parts.push(
      '\nContext load (ms)\n',
      contextLoadTable(results.contextLoad),
      '',
      contextRoundsTable(results.contextLoad),
    );
  if (results.sseLoad) parts.push('\nConcurrent SSE replies\n', sseLoadTable(results.sseLoad));
  if (results.firstDelta) {
    parts.push('\nTime added to the first delta (ms)\n', firstDeltaTable(results.firstDelta));
    parts.push("\nContinuum's own part, timed in the server (ms)\n", firstDeltaSplitTable(results.firstDelta));
  }
  if (results.stores) parts.push('\nThe same figures on each store\n', storesTable(results.stores));
  if (results.tokens) parts.push('\nToken requests saved by the client SDK\n', tokenSavingsReport(results.tokens));
  if (results.sync) parts.push('\nWebSocket sync: publish to receive (ms)\n', syncLatencyTable(results.sync));
  if (results.profile)
    parts.push(
      '\nWhere an append spends its time\n',
      profileSection(results.profile),
      `\nProfile: ${results.profile.file}`,
    );
  parts.push('', ...verdicts(results));
  return parts.join('\n');
}

/** bench/README.md, regenerated on each full run. */
export function readme(results: BenchResults, resultFile: string): string {
  const m = results.machine;
  const sl = results.params['stateLoad'] as Record<string, unknown> | undefined;
  const tp = results.params['throughput'] as Record<string, unknown> | undefined;
  const out: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by bench/run.ts; edit bench/lib/report.ts, not this file. -->',
    '',
    `The figures below were produced by \`${results.command}\` on ${results.date.slice(0, 10)} (${Math.round(results.wallSeconds)} s; raw figures in [\`${resultFile}\`](${resultFile})).`,
    '',
    `**Machine:** ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}. Load average ${m.loadAverageAtStart.join(' / ')} at start and ${results.loadAverageAtEnd.join(' / ')} at the end (1/5/15 min): the machine is shared and noisy, and the load generator, the server and the bare server share its ${m.cores} cores, so read the figures as orders of magnitude and ratios, not as capacity.`,
    '',
    '## Verdicts',
    '',
    ...verdicts(results).map((line) => `- ${line}`),
  ];
  if (results.stateLoad) {
    out.push(
      '',
      '## State load',
      '',
      "What a request pays to load a conversation's state: `ConversationService.get(principal, id)` (which verifies the hash chain) plus the 20 most recent turns (`listTurns(principal, id, max(0, turn − 20), 20)`, each turn checked against its predecessor's hash and decrypted), timed with `performance.now()` around the two calls. In-process, through the real service layer (`buildApp` on a temp SQLite file in WAL mode, local master key, rate and session limits off); every turn was appended through `ConversationService.append`. With the audit trail on (ADR-007), each of the two calls also commits its own audit event (`conversation.read`, `turn.read`), so a load includes two SQLite write transactions.",
      '',
      `- **cold**: the first load on a freshly built app on the same data dir — the node has never seen the conversation, so the whole chain is walked (every turn read, decrypted and re-hashed) and the tenant's data key is unwrapped; ${String(sl?.['coldRuns'])} fresh apps per size, sizes taking turns.`,
      `- **warm**: one app, ${String(sl?.['warmupIterations'])} untimed loads, then ${String(sl?.['warmIterations'])} timed ones per size (only turns appended since the last check are verified).`,
      '- p99 is nearest-rank; with a handful of cold samples it is the slowest one.',
      '',
      stateLoadTable(results.stateLoad),
      '',
      'The two halves of a load (wall-clock p50), and the CPU time the process spent per load (`process.cpuUsage`, all threads): where wall p99 is far above CPU p99, the load was waiting for a core, not working.',
      '',
      stateLoadSplitTable(results.stateLoad),
    );
  }
  if (results.throughput) {
    out.push(
      '',
      '## Append throughput',
      '',
      `autocannon 9 against a real \`node bin/continuum.mjs serve\` process (temp data dir, \`CONTINUUM_RATE_LIMIT_PER_TENANT=0\`, \`CONTINUUM_RATE_LIMIT_PER_SUBJECT=0\`, \`CONTINUUM_MAX_SESSIONS_PER_TENANT=0\`, \`CONTINUUM_LOG_LEVEL=warn\`): \`POST /v1/conversations/:id/turns\`, each connection with its own subject, access token and new conversation, sending the \`expectedTurn\` it tracks from its own 201s (a 409 would resync it and count as non-2xx). The yardstick, in the same run with the same settings: a bare Fastify 5 \`GET /\` hello route in its own process (\`bench/bare-server.ts\`). Each side ran ${String(tp?.['rounds'])} × ${String(tp?.['durationSeconds'])} s per connection count, the two sides taking turns (alternating which goes first), after a ${String(tp?.['warmupSeconds'])} s warm-up of each; every figure is the median of its runs, and the ratio is median ÷ median. "Turns stored" is read back from the server after each run and summed.`,
      '',
      throughputTable(results.throughput),
      '',
      'Each round:',
      '',
      roundsTable(results.throughput),
    );
  }
  if (results.profile) {
    out.push('', '## Where an append spends its time', '', profileSection(results.profile));
  }
  if (results.compliance)
    out.push(
      '',
      '## What encryption and audit cost',
      '',
      complianceSection(results.compliance, results.params['compliance']),
    );
  if (results.contextLoad) {
    out.push('', '## Context load', '', contextLoadSection(results.contextLoad, results.params['context']));
  }
  if (results.sseLoad) out.push('', '## Concurrent SSE replies', '', sseLoadSection(results.sseLoad));
  if (results.firstDelta) {
    out.push(
      '',
      '## Time Continuum adds to the first delta',
      '',
      firstDeltaSection(results.firstDelta, results.params['firstDelta']),
    );
  }
  if (results.stores) {
    out.push('', '## The same figures on each store', '', storesSection(results.stores, results.params['stores']));
  }
  if (results.tokens) {
    // The report carries its own heading.
    out.push('', tokenSavingsReport(results.tokens));
  }
  if (results.sync) {
    out.push(
      '',
      '## WebSocket sync: publish to receive',
      '',
      'Each node runs in a worker thread of its own, the clients in another; a publisher appends turns and every subscribed socket of the conversation times the frame from the append to its arrival (`bench/sync-latency.ts`). One node; then two nodes on Redis and the local PostgreSQL, the publisher on one and the sockets split over both. Target: p99 under 10 ms on loopback.',
      '',
      syncLatencyTable(results.sync),
    );
  }
  out.push(
    '',
    '## Data',
    '',
    `Turn text is real clinical dialogue: ${results.data.turns.toLocaleString('en-US')} speaker turns (mean ${Math.round(results.data.meanChars)} characters) from \`${results.data.files.join('` and `')}\` in \`/work/shared/data\` (see its SOURCES.md), cycled in file order (the conversations of the state-load and context-load sections all end with the same turns, so they differ only in the history behind them); doctors append as \`clinician\`, patients and family as \`user\`. Both data sets are CC BY 4.0:`,
    '',
    ...results.data.citation.map((c) => `- ${c}`),
    '',
    '## Running',
    '',
    '```sh',
    `npm run bench            # full run (~${results.mode === 'full' ? Math.ceil(results.wallSeconds / 60) : 5} min here): writes bench/results/full.json and this README`,
    'npm run bench:quick      # smaller sizes, one round: bench/results/quick.json, README untouched',
    'npm run bench -- --only state-load      # or --only throughput, compliance, context, sse, stores, tokens, sync',
    'npm run bench -- --cpu-prof             # always profile an appends run (default: only when the ratio misses its target)',
    'npm run bench -- --no-cpu-prof --name my-run',
    '```',
    '',
  );
  return out.join('\n');
}
