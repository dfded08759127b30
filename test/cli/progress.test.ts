import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/cli/progress.ts';
import { type TransferProgress, zeroCounts } from '../../src/transfer/format.ts';

function progressAt(tenantsDone: number, turns: number): TransferProgress {
  return { counts: { ...zeroCounts(), conversations: 2, turns }, tenantsDone, tenantsTotal: 4 };
}

describe('progress on stderr', () => {
  it('redraws one bar in place on a TTY, at most every 100 ms, and ends the line when finished', () => {
    let now = 0;
    const written: string[] = [];
    const progress = createProgress({
      label: 'import',
      stream: { isTTY: true, write: (text) => written.push(text) },
      line: () => {
        throw new Error('a TTY gets no lines');
      },
      now: () => now,
    });
    now = 50;
    progress.update(progressAt(0, 10));
    expect(written).toEqual([]);
    now = 1000;
    progress.update(progressAt(2, 998));
    expect(written).toEqual([
      '\r\x1b[2Kimport [##########----------] 2/4 tenants · 2 conversations · 998 turns · 0 audit events · 1,000 records/s',
    ]);
    progress.finish();
    progress.finish();
    expect(written.slice(1)).toHaveLength(2);
    expect(written.at(-1)).toBe('\n');
  });

  it('prints a plain line every few seconds elsewhere, and nothing when quiet', () => {
    let now = 0;
    const lines: string[] = [];
    const progress = createProgress({ label: 'export', line: (l) => lines.push(l), everyMs: 5000, now: () => now });
    for (now = 1000; now <= 11_000; now += 1000) progress.update(progressAt(1, now));
    progress.finish();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^export 1\/4 tenants · 2 conversations · 5,000 turns/);

    const quiet: string[] = [];
    const silent = createProgress({ label: 'export', line: (l) => quiet.push(l), quiet: true, now: () => now });
    now += 60_000;
    silent.update(progressAt(4, 1));
    silent.finish();
    expect(quiet).toEqual([]);
  });
});
