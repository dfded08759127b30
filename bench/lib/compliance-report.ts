/** The compliance-cost part of the benchmark report (bench/compliance-cost.ts). */
import type { ComplianceFigures } from '../compliance-cost.ts';
import { int, mark, ms, pct, table, times } from './markdown.ts';

export function complianceTable(c: ComplianceFigures): string {
  const rows = [
    [
      `appends/s, in-process (${c.writers} writers × ${int(c.appendsPerWriter)})`,
      int(c.on.appendsPerSecond),
      int(c.off.appendsPerSecond),
      times(c.on.appendsPerSecond / c.off.appendsPerSecond),
      pct(c.throughputCost),
    ],
    [
      'CPU ms per append, in-process',
      ms(c.on.cpuMsPerAppend),
      ms(c.off.cpuMsPerAppend),
      times(c.on.cpuMsPerAppend / c.off.cpuMsPerAppend),
      `${pct(c.cpuCost)} of CPU`,
    ],
    [
      `warm state load p50 ms (${int(c.stateLoadTurns)} turns)`,
      ms(c.on.stateLoadP50),
      ms(c.off.stateLoadP50),
      times(c.stateLoadP50Ratio),
      '',
    ],
    [
      `warm state load p99 ms (${int(c.stateLoadTurns)} turns)`,
      ms(c.on.stateLoadP99),
      ms(c.off.stateLoadP99),
      times(c.stateLoadP99Ratio),
      '',
    ],
  ];
  if (c.http) {
    rows.push([
      `appends req/s, HTTP (${c.http.connections} connections)`,
      int(c.http.on.median),
      int(c.http.off.median),
      times(c.http.on.median / c.http.off.median),
      pct(c.http.throughputCost),
    ]);
  }
  return table(['medians', 'on (production)', 'off (baselines)', 'on ÷ off', 'cost: 1 − on ÷ off'], rows);
}

export function complianceRoundsTable(c: ComplianceFigures): string {
  const on = c.runs.filter((r) => r.variant === 'on');
  const off = c.runs.filter((r) => r.variant === 'off');
  const cells = (format: (i: number) => string) => on.map((_, i) => format(i));
  const rows = [
    [
      'appends/s, in-process (cost)',
      ...cells(
        (i) =>
          `${int(on[i]!.appends.appendsPerSecond)} / ${int(off[i]!.appends.appendsPerSecond)} (${pct(c.roundThroughputCosts[i]!)})`,
      ),
    ],
    [
      'CPU ms per append, in-process (share of CPU)',
      ...cells(
        (i) =>
          `${ms(on[i]!.appends.cpuMsPerAppend)} / ${ms(off[i]!.appends.cpuMsPerAppend)} (${pct(c.roundCpuCosts[i]!)})`,
      ),
    ],
    [
      'warm state load p50 ms (on ÷ off)',
      ...cells(
        (i) => `${ms(on[i]!.stateLoad.p50)} / ${ms(off[i]!.stateLoad.p50)} (${times(c.roundStateLoadRatios[i]!.p50)})`,
      ),
    ],
    [
      'warm state load p99 ms (on ÷ off)',
      ...cells(
        (i) => `${ms(on[i]!.stateLoad.p99)} / ${ms(off[i]!.stateLoad.p99)} (${times(c.roundStateLoadRatios[i]!.p99)})`,
      ),
    ],
    [
      'one writer building the conversation, appends/s',
      ...cells((i) => `${int(on[i]!.build.appendsPerSecond)} / ${int(off[i]!.build.appendsPerSecond)}`),
    ],
  ];
  const http = c.http;
  if (http) {
    rows.push([
      'appends req/s, HTTP (cost)',
      ...cells(
        (i) =>
          `${int(http.on.runs[i]!.requestsPerSecond)} / ${int(http.off.runs[i]!.requestsPerSecond)} (${pct(http.roundThroughputCosts[i]!)})`,
      ),
    ]);
  }
  return table(['on / off', ...on.map((r) => `round ${r.round}`)], rows);
}

/** The verdict line: the cost against its target, with each round. */
export function complianceVerdict(c: ComplianceFigures, target: number): string {
  const rounds = (costs: number[]) => costs.map(pct).join(', ');
  const http = c.http
    ? `; over HTTP ${pct(c.http.throughputCost)} (${mark(c.http.throughputCost < target)}; rounds ${rounds(c.http.roundThroughputCosts)})`
    : '';
  return `Compliance cost (encryption + audit on vs off), target < ${pct(target)} of append throughput: in-process 1 − on ÷ off = ${pct(c.throughputCost)} (${mark(c.throughputCost < target)}; rounds ${rounds(c.roundThroughputCosts)}), CPU per append ${pct(c.cpuCost)} (rounds ${rounds(c.roundCpuCosts)})${http}. Warm state load at ${int(c.stateLoadTurns)} turns, on ÷ off: p50 ${times(c.stateLoadP50Ratio)}, p99 ${times(c.stateLoadP99Ratio)} (rounds ${c.roundStateLoadRatios.map((r) => `${times(r.p50)} / ${times(r.p99)}`).join(', ')}).`;
}

/** The README section: what was measured and how, the medians and each round. */
export function complianceSection(c: ComplianceFigures, params: unknown): string {
  const p = params as Record<string, unknown> | undefined;
  const http = c.http;
  return [
    `Issue 3's benchmark: append throughput and state load with encryption at rest (ADR-008) and the audit trail (ADR-007) **on**, the app exactly as production builds it, against **off**, the same \`buildApp\` given the two baselines of [\`lib/compliance-baselines.ts\`](lib/compliance-baselines.ts) through \`deps.cipher\` and \`deps.auditTrail\`: a cipher that stores text as plain UTF-8 bytes, and an audit trail whose transactions carry no events, whose standalone events (reads) are dropped and which signs no checkpoints. They exist only to measure this cost and never ship. Everything else is the same on both sides: the turn hash chain (ADR-003) and its verification, SQLite in WAL mode with group commit, the service layer. (The SQLite adapter still looks up the audit chain head in every audited write even when the batch is empty; that read stays in "off".)`,
    '',
    `In-process, through \`ConversationService\` as in the state-load section, each run on a fresh data dir: ${c.writers} concurrent writers, each appending ${int(c.appendsPerWriter)} turns of clinical text to its own conversation (\`append(principal, id, { role, content, expectedTurn })\`, ${int(c.writers * c.appendsPerWriter)} appends, timed from the first to the last); then one writer builds a ${int(c.stateLoadTurns)}-turn conversation and its state is loaded (\`get\` + ${String(p?.['recentTurns'])} recent turns) ${String(p?.['warmupIterations'])} times untimed and ${String(p?.['warmIterations'])} times timed. ${c.runs.length / 2} rounds, the variants taking turns (${c.runs.map((r) => r.variant).join(', ')}), after an untimed warm-up run of each; figures are medians of the rounds, and the cost is 1 − median on ÷ median off. CPU ms per append is the process's CPU time (\`process.cpuUsage\`, all threads) over the appends: SQLite runs on the main thread and WAL commits with \`synchronous = NORMAL\` do not wait for the disk, so it is the steadier figure on a busy machine.${http ? ` HTTP: autocannon, ${http.connections} connections, ${http.durationSeconds} s per run, against [\`compliance-server.ts\`](compliance-server.ts) (\`serve\`'s wiring, the throughput section's settings), one process per variant, the variants taking turns in the same order, after a warm-up of each.` : ''}`,
    '',
    "The machine is shared and noisy (see the load averages above): read the ratios and the spread of the rounds rather than the absolute rates; where a round's wall-clock cost departs from the others while its CPU cost does not, that run was waiting for a core.",
    '',
    complianceTable(c),
    '',
    'Each round (on / off):',
    '',
    complianceRoundsTable(c),
  ].join('\n');
}
