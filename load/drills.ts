/**
 * `npm run drills [-- --quick] [--only a,b] [--out dir]`: every fault drill
 * against real `continuum serve` processes (and private PostgreSQL and Redis
 * servers), each printing PASS or FAIL with its figures; exits 1 when any
 * drill failed, 2 on a usage error. Results go to load/results/drills.json|.md
 * (drills-quick with --quick).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo } from '../bench/lib/machine.ts';
import { DRILLS, formatResult, runDrills, writeDrillsReport } from './drills/index.ts';
import { releaseSharedPostgres } from './lib/cluster.ts';
import { RESULTS_DIR } from './lib/report.ts';

// Interrupted: the nodes die with this process, the private PostgreSQL (a daemon) is stopped here.
process.once('SIGINT', () => void releaseSharedPostgres().finally(() => process.exit(130)));

const HELP = `npm run drills -- [--quick] [--only <name>[,<name>…]] [--out <dir>]

Drills: ${DRILLS.map((d) => d.name).join(', ')}`;

async function main(argv: string[]): Promise<number> {
  let values: { quick: boolean; only?: string; out?: string; help: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }) as { values: typeof values });
  } catch (error) {
    process.stderr.write(`drills: ${(error as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const names = values.only?.split(',').map((n) => n.trim());
  const unknown = names?.filter((n) => !DRILLS.some((d) => d.name === n)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`drills: unknown drill ${unknown.join(', ')}\n\n${HELP}\n`);
    return 2;
  }
  const drills = names === undefined ? DRILLS : DRILLS.filter((d) => names.includes(d.name));
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const results = await runDrills(
    drills,
    { quick: values.quick, log: (line) => process.stderr.write(`${line}\n`) },
    (line) => process.stdout.write(`${line}\n`),
  ).finally(releaseSharedPostgres);
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const command = `npm run drills${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
  const file = writeDrillsReport(
    { quick: values.quick, startedAt, seconds, machine, command, results },
    values.out === undefined ? RESULTS_DIR : path.resolve(values.out),
    values.quick ? 'drills-quick' : 'drills',
  );
  const failed = results.filter((r) => r.status === 'fail');
  process.stdout.write(
    `\n${results.length - failed.length} of ${results.length} drills passed or not available here` +
      ` (${results.filter((r) => r.status === 'not available').length} not available), ${failed.length} failed, in ${seconds} s; report: ${path.relative(process.cwd(), file)}\n`,
  );
  for (const r of failed) process.stdout.write(`${formatResult(r)[0]}\n`);
  return failed.length > 0 ? 1 : 0;
}

process.exit(await main(process.argv.slice(2)));
