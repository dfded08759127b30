import { LOADTEST_HELP } from '../../../load/help.ts';
import type { CliIo } from '../io.ts';

/** Usage of `continuum loadtest` (the same text as `npm run loadtest -- --help`). */
export const loadtestHelp = LOADTEST_HELP;

/**
 * `continuum loadtest --scenario <name> [--quick]`: the load harness of
 * `load/` (what `npm run loadtest` runs), against `continuum serve` processes
 * it starts on loopback. The harness loads only when this command runs.
 *
 * @example
 * continuum loadtest --scenario conversations --quick
 */
export async function loadtest(args: string[], io: CliIo): Promise<number> {
  const { loadtestMain } = await import('../../../load/loadtest.ts');
  return loadtestMain(args, io);
}
