/**
 * `npm run eval -- --data <file.jsonl> [--limit N] [--name X]`
 *
 * Replays the clinical conversations of a JSON Lines file through the real
 * append path, scores each final working context against the reference note
 * (docs/EVALUATION.md, "Gold facts and matching rule"), prints a table,
 * writes bench/results/eval-<name>.json and regenerates the results section
 * of docs/EVALUATION.md.
 *
 * @example
 * npm run eval -- --data ../shared/data/aci_bench.dev.jsonl --name aci
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDataset } from './eval/dataset.ts';
import { loadGoldLexicon } from './eval/gold-lexicon.ts';
import {
  citationsFor,
  type EvalResults,
  ROOT,
  readAllResults,
  summaryTable,
  TARGETS,
  updateDoc,
  verdicts,
  writeResults,
} from './eval/report.ts';
import { runEvaluation } from './eval/run.ts';
import { machineInfo } from './lib/machine.ts';

const USAGE = 'usage: npm run eval -- --data <file.jsonl> [--limit N] [--name X]';

function parseCli(argv: string[]): { data: string; limit: number | null; name: string | null } {
  const { values } = parseArgs({
    args: argv,
    options: { data: { type: 'string' }, limit: { type: 'string' }, name: { type: 'string' } },
    strict: true,
  });
  if (values.data === undefined) throw new TypeError(`--data is required\n${USAGE}`);
  let limit: number | null = null;
  if (values.limit !== undefined) {
    limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new TypeError(`--limit must be a positive integer\n${USAGE}`);
  }
  const name = values.name ?? null;
  if (name !== null && !/^[a-z0-9][a-z0-9._-]*$/i.test(name)) {
    throw new TypeError(`--name may use letters, digits, ".", "_" and "-" only\n${USAGE}`);
  }
  return { data: values.data, limit, name };
}

/** SHA-256 over the paths and contents of every file under `dir`, in path order. */
function treeSha256(dir: string): string {
  const hash = createHash('sha256');
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(path.join(dir, f)).isFile());
  for (const file of files.sort())
    hash
      .update(`${file}\0`)
      .update(readFileSync(path.join(dir, file)))
      .update('\0');
  return hash.digest('hex');
}

/**
 * The code a run used: the commit, whether src/ or bench/ had uncommitted
 * changes (the figures then describe those), and a hash of src/ as it was
 * read, so two runs can be shown to have used the same code.
 */
function codeVersion(): EvalResults['code'] {
  const srcSha256 = treeSha256(path.join(ROOT, 'src'));
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' }).trim();
    return {
      commit: git('rev-parse', '--short', 'HEAD'),
      uncommittedChanges: git('status', '--porcelain', '--', 'src', 'bench') !== '',
      srcSha256,
    };
  } catch {
    return { commit: 'unknown', uncommittedChanges: null, srcSha256 };
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const cli = parseCli(argv);
  const code = codeVersion();
  const started = performance.now();
  const machine = machineInfo();
  const text = readFileSync(cli.data, 'utf8');
  const all = parseDataset(text, cli.data);
  const conversations = cli.limit === null ? all : all.slice(0, cli.limit);
  const lexicon = loadGoldLexicon();
  const base = path.basename(cli.data).replace(/\.jsonl$/, '');
  const name = cli.name ?? (cli.limit === null ? base : `${base}-first${cli.limit}`);

  console.error(`eval ${name}: ${conversations.length} of ${all.length} conversations from ${cli.data}`);
  const step = Math.max(1, Math.round(conversations.length / 20));
  const output = await runEvaluation(conversations, lexicon, (done, total) => {
    if (done % step === 0 || done === total) {
      console.error(`  ${done}/${total} replayed (${Math.round((performance.now() - started) / 1000)} s)`);
    }
  });

  const results: EvalResults = {
    name,
    command: `npm run eval -- ${argv.join(' ')}`,
    date: new Date().toISOString(),
    wallSeconds: (performance.now() - started) / 1000,
    data: {
      file: cli.data,
      sha256: createHash('sha256').update(text).digest('hex'),
      conversationsInFile: all.length,
      limit: cli.limit,
      emptyTurnsSkipped: conversations.reduce((t, c) => t + c.emptyTurns, 0),
      citation: citationsFor(conversations),
    },
    code,
    rule: { doc: 'docs/EVALUATION.md#gold-facts-and-matching-rule', goldLexiconSha256: lexicon.sha256 },
    targets: TARGETS,
    settings: output.settings,
    scores: output.scores,
    timing: output.timing,
    machine,
    loadAverageAtEnd: os.loadavg().map((v) => Math.round(v * 100) / 100),
    conversations: output.conversations,
  };
  const file = writeResults(results);
  updateDoc(readAllResults());

  console.log(`\n${summaryTable([results])}\n`);
  for (const v of verdicts(results)) console.log(`- ${v}`);
  console.log('\nMost frequent missed gold facts (conversations):');
  for (const m of results.scores.topMissed) console.log(`  ${String(m.count).padStart(4)}  ${m.fact}`);
  if (results.scores.topUnsupported.length > 0) {
    console.log('\nExtracted facts supported by neither note nor dialogue (conversations):');
    for (const m of results.scores.topUnsupported) console.log(`  ${String(m.count).padStart(4)}  ${m.fact}`);
  }
  console.log(
    `\nwrote ${path.relative(process.cwd(), file)} and docs/EVALUATION.md (${Math.round(results.wallSeconds)} s)`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
