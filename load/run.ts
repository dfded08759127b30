/**
 * `npm run loadtest -- --scenario <name> [--quick] [--conversations N] [--clients N]`:
 * see load/loadtest.ts (the same code runs as `continuum loadtest`).
 */
import { releaseSharedPostgres } from './lib/cluster.ts';
import { LOADTEST_HELP, loadtestMain } from './loadtest.ts';

// Interrupted: the nodes die with this process, the private PostgreSQL (a daemon) is stopped here.
process.once('SIGINT', () => void releaseSharedPostgres().finally(() => process.exit(130)));

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`${LOADTEST_HELP}\n`);
  process.exit(0);
}
const code = await loadtestMain(args, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}).catch((error: unknown) => {
  process.stderr.write(`loadtest: ${error instanceof Error ? error.message : String(error)}\n`);
  return 2;
});
// Keep-alive sockets of the load generator would hold the process open for a few seconds.
process.exit(code);
