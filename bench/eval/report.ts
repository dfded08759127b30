/**
 * Evaluation output: the results file, the console table, and the generated
 * results section of docs/EVALUATION.md (built from every
 * bench/results/eval-*.json, so each data set's run keeps its row).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DATA_CITATION } from '../lib/clinical-text.ts';
import type { MachineInfo } from '../lib/machine.ts';
import { round } from '../lib/stats.ts';
import type { TokenParts } from './breakdown.ts';
import type { EvalConversation } from './dataset.ts';
import type { ConversationScore, RunSettings, Scores, Timing } from './run.ts';

/** Targets of issue 4. */
export const TARGETS = { sizeReduction: 0.8, recall: 0.95 } as const;

/** The contents of bench/results/eval-<name>.json. */
export interface EvalResults {
  name: string;
  command: string;
  date: string;
  wallSeconds: number;
  data: {
    file: string;
    sha256: string;
    conversationsInFile: number;
    limit: number | null;
    emptyTurnsSkipped: number;
    citation: string[];
  };
  /** `srcSha256` is missing from result files written before it was recorded. */
  code: { commit: string; uncommittedChanges: boolean | null; srcSha256?: string };
  rule: { doc: string; goldLexiconSha256: string };
  targets: typeof TARGETS;
  settings: RunSettings;
  scores: Scores;
  timing: Timing;
  machine: MachineInfo;
  loadAverageAtEnd: number[];
  conversations: ConversationScore[];
}

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const RESULTS_DIR = path.join(ROOT, 'bench/results');
const DOC = path.join(ROOT, 'docs/EVALUATION.md');
const START = '<!-- eval-results:start -->';
const END = '<!-- eval-results:end -->';

/** The citations of the data sets a file's conversations come from (their `source` field). */
export function citationsFor(conversations: readonly EvalConversation[]): string[] {
  const sources = [...new Set(conversations.map((c) => `${c.source} — ${c.license}`))];
  const out = new Set<string>();
  for (const s of sources) {
    const known = DATA_CITATION.find((citation) => s.startsWith(citation.split(' — ')[0]!));
    out.add(known ?? s);
  }
  return [...out].sort();
}

const pct = (value: number | null | undefined) =>
  value === null || value === undefined || Number.isNaN(value) ? 'n/a' : `${(value * 100).toFixed(1)} %`;
/** Two decimals where a figure is compared with a target, so 94.98 % does not print as 95.0 %. */
const pct2 = (value: number) => (Number.isNaN(value) ? 'n/a' : `${(value * 100).toFixed(2)} %`);
const ms = (value: number) => (Number.isNaN(value) ? 'n/a' : `${round(value)}`);
const int = (value: number) => value.toLocaleString('en-US');
const mark = (value: number | null | undefined, target: number) =>
  value === null || value === undefined || Number.isNaN(value) ? 'n/a' : value >= target ? 'met' : 'NOT met';

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The summary table of one or more runs. */
export function summaryTable(results: readonly EvalResults[]): string {
  return table(
    [
      'run',
      'data',
      'conversations (turns)',
      'size reduction, > 40 turns: mean (median, min; n)',
      'fact recall (gold facts)',
      'recall med / allergy / cond',
      'profile precision (facts)',
      'context build p50 / p99 ms',
      'append p50 / p99 ms',
    ],
    results.map((r) => {
      const s = r.scores;
      const size = s.sizeReduction;
      const k = s.recall.byKind;
      return [
        r.name,
        `${path.basename(r.data.file)}${r.data.limit === null ? '' : ` (first ${int(r.data.limit)})`}`,
        `${int(s.conversations)} (${int(s.turns)})`,
        size === null
          ? 'n/a (none over 40 turns)'
          : `${pct(size.mean)} (${pct(size.median)}, ${pct(size.min)}; ${size.conversations})`,
        `${pct(s.recall.value)} (${int(s.recall.n)} / ${int(s.recall.of)})`,
        `${pct(k.medication.value)} / ${pct(k.allergy.value)} / ${pct(k.condition.value)}`,
        `${pct(s.precision.value)} (${int(s.precision.n)} / ${int(s.precision.of)})`,
        `${ms(r.timing.contextBuild.p50)} / ${ms(r.timing.contextBuild.p99)}`,
        `${ms(r.timing.append.p50)} / ${ms(r.timing.append.p99)}`,
      ];
    }),
  );
}

/** Target verdicts and diagnostics of one run, as markdown bullets. */
export function verdicts(r: EvalResults): string[] {
  const s = r.scores;
  const size = s.sizeReduction;
  return [
    `Size reduction (target ≥ ${pct(TARGETS.sizeReduction)}): ${size === null ? 'n/a' : `mean ${pct2(size.mean)}, pooled ${pct(size.pooled)} over ${size.conversations} conversations`} — ${mark(size?.mean, TARGETS.sizeReduction)}.${size === null ? '' : ` Mean transcript ${int(size.meanTranscriptTokens)} tokens, mean working context ${int(size.meanContextTokens)}: ${partsText(size.meanContextParts)}.`}`,
    `Fact recall (target ≥ ${pct(TARGETS.recall)}): ${pct2(s.recall.value)} (${int(s.recall.n)}) of ${int(s.recall.of)} gold facts in ${int(s.recall.conversationsWithGold)} conversations — ${mark(s.recall.value, TARGETS.recall)}. Diagnostic, anywhere in the working context (recent and retrieved turns too): ${pct(s.recall.contextRecall.value)}.`,
    `Profile precision: ${pct(s.precision.value)} of ${int(s.precision.of)} extracted medications, allergies and conditions (${int(s.precision.noneMarkers)} "none" markers not scored); supported by the reference note alone: ${pct(s.precision.noteSupport.value)}.`,
    `Context build (\`GET …/context\` after every turn of the first ${r.timing.contextBuild.conversations} conversations, ${int(r.timing.contextBuild.n)} builds): p50 ${ms(r.timing.contextBuild.p50)} ms, p99 ${ms(r.timing.contextBuild.p99)} ms. Append (every turn, ${int(r.timing.append.n)}; includes the incremental context update): p50 ${ms(r.timing.append.p50)} ms, p99 ${ms(r.timing.append.p99)} ms.`,
  ];
}

/** Command, date, data and code of a run, so a reader can reproduce it. */
function provenance(r: EvalResults): string {
  const sample =
    r.data.limit === null
      ? ''
      : `, the first ${int(r.data.limit)} of its ${int(r.data.conversationsInFile)} conversations`;
  const changes = r.code.uncommittedChanges ? ' with uncommitted changes' : '';
  const src = r.code.srcSha256 ? ` (src/ sha256 \`${r.code.srcSha256.slice(0, 16)}…\`)` : '';
  return [
    `\`${r.command}\` — ${r.date.slice(0, 10)}, ${round(r.wallSeconds)} s`,
    `data file sha256 \`${r.data.sha256.slice(0, 16)}…\`${sample}`,
    `code at \`${r.code.commit}\`${changes}${src}`,
    `gold lexicon sha256 \`${r.rule.goldLexiconSha256.slice(0, 16)}…\``,
    `raw figures and per-conversation scores in [\`bench/results/eval-${r.name}.json\`](../bench/results/eval-${r.name}.json).`,
  ].join('; ');
}

function partsText(p: TokenParts): string {
  return `profile ${int(p.profile)}, summary ${int(p.summary)}, retrieved turns ${int(p.retrieved)}, recent turns ${int(p.recent)}, system prompt and framing ${int(p.other)}`;
}

function machineNote(r: EvalResults): string {
  const m = r.machine;
  return `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}; load average ${m.loadAverageAtStart.join(' / ')} at start, ${r.loadAverageAtEnd.join(' / ')} at the end (1/5/15 min)`;
}

/** The generated results section (between the markers of docs/EVALUATION.md). */
export function resultsMarkdown(results: readonly EvalResults[]): string {
  const out: string[] = [
    '<!-- Generated by bench/eval.ts from bench/results/eval-*.json; do not edit by hand. -->',
    '',
    summaryTable(results),
    '',
    'Times are wall clock on a shared machine (see each run); every other figure is deterministic and is the same on a re-run of the same command.',
  ];
  const citations = [...new Set(results.flatMap((r) => r.data.citation))].sort();
  out.push('', '**Data** (CC BY 4.0; reformatted to JSON Lines, see `../shared/data/SOURCES.md`):', '');
  for (const c of citations) out.push(`- ${c}`);
  for (const r of results) {
    out.push('', `### ${r.name}`, '');
    out.push(provenance(r), '', `**Machine:** ${machineNote(r)}.`, '');
    for (const v of verdicts(r)) out.push(`- ${v}`);
    if (r.scores.topMissed.length > 0) {
      out.push('', 'Most frequent missed gold facts (kind:canonical — conversations):', '');
      out.push(r.scores.topMissed.map((m) => `\`${m.fact}\` ${m.count}`).join(', '));
    }
    if (r.scores.topUnsupported.length > 0) {
      out.push('', 'Extracted facts supported by neither note nor dialogue (kind:name — conversations):', '');
      out.push(r.scores.topUnsupported.map((m) => `\`${m.fact}\` ${m.count}`).join(', '));
    }
  }
  return out.join('\n');
}

/** Every results file of the evaluation, sorted by name. */
export function readAllResults(): EvalResults[] {
  return readdirSync(RESULTS_DIR)
    .filter((f) => /^eval-.+\.json$/.test(f))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(RESULTS_DIR, f), 'utf8')) as EvalResults);
}

/** Write bench/results/eval-<name>.json; returns its path. */
export function writeResults(results: EvalResults): string {
  const file = path.join(RESULTS_DIR, `eval-${results.name}.json`);
  // One line per conversation keeps a 1,300-conversation file readable and its diffs small.
  const { conversations, ...rest } = results;
  const head = JSON.stringify(rest, null, 2).slice(0, -2);
  const rows = conversations.map((c) => `    ${JSON.stringify(c)}`).join(',\n');
  writeFileSync(file, `${head},\n  "conversations": [\n${rows}\n  ]\n}\n`);
  return file;
}

/** Replace the generated section of docs/EVALUATION.md. */
export function updateDoc(results: readonly EvalResults[]): void {
  const doc = readFileSync(DOC, 'utf8');
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start === -1 || end < start) throw new Error(`${DOC} lacks the ${START} … ${END} markers`);
  writeFileSync(DOC, `${doc.slice(0, start + START.length)}\n${resultsMarkdown(results)}\n${doc.slice(end)}`);
}
