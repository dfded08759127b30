import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCH_PARTS } from '../../src/cli/commands/bench.ts';
import { main } from '../../src/cli/main.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { env: {}, out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

// The real benchmark takes minutes and wants an idle machine: these tests never start it.
describe('continuum bench', () => {
  it('--help says what each part of bench/run.ts measures and where the results go', async () => {
    const c = capture();
    expect(await main(['bench', '--help'], c.io)).toBe(0);
    const help = c.out.join('\n');
    expect(help).toContain('continuum bench [--quick]');
    expect(help).toContain('node --import tsx bench/run.ts');
    expect(help).toContain('bench/results/<name>.json');
    expect(help).toContain('bench/README.md');
    // The parts the CLI accepts are bench/run.ts's own, and the help describes each.
    const runner = readFileSync(path.join(ROOT, 'bench/run.ts'), 'utf8');
    const parts = /const PARTS = \[([^\]]*)\]/.exec(runner)?.[1];
    expect(parts, 'the PARTS list of bench/run.ts').toBeDefined();
    expect(BENCH_PARTS).toEqual([...parts!.matchAll(/'([\w-]+)'/g)].map((m) => m[1]));
    for (const part of BENCH_PARTS) expect(help).toMatch(new RegExp(`^  ${part} +\\S`, 'm'));
  });

  it('refuses an unknown part or option with a usage error, before starting anything', async () => {
    for (const args of [
      ['--only', 'everything'],
      ['--frobnicate'],
      ['--name', 'a/b'],
      ['now'],
      ['--cpu-prof', '--no-cpu-prof'],
    ]) {
      const c = capture();
      expect(await main(['bench', ...args], c.io), args.join(' ')).toBe(2);
      expect(c.err.join('\n')).toContain('continuum bench');
    }
  });
});
