/**
 * The SQLite data dir runs out of space under load: a small tmpfs mounted
 * for the drill (root only; otherwise the drill is not available) is filled
 * to the last byte while patients append. Appends must be refused with a
 * clear `503 store_unavailable` (no hang, no 500), the node must stay up, and
 * once space is freed appends carry on; afterwards the database passes
 * SQLite's `integrity_check`, `continuum audit verify` passes on it, and a
 * restarted node (the full run; the quick one reads before stopping) holds
 * every acknowledged turn.
 */
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { SQLITE_FILE } from '../../src/server/runtime.ts';
import { call } from '../lib/http.ts';
import { createNode } from '../lib/node-process.ts';
import { pause } from '../lib/scenario.ts';
import type { Drill, DrillContext, DrillRecord } from './drill.ts';
import { Writers, waitFor } from './writers.ts';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** Mount a tmpfs of `sizeMiB` on a new temp dir; undefined (with why) when this process may not mount. */
async function mountTmpfs(sizeMiB: number): Promise<{ dir: string } | { unavailable: string }> {
  if (process.getuid?.() !== 0) return { unavailable: 'mounting a small tmpfs for the data dir needs root' };
  const dir = mkdtempSync(path.join(tmpdir(), 'continuum-diskfull-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', dir]);
    return { dir };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return { unavailable: `cannot mount a tmpfs here: ${(error as Error).message.split('\n')[0]}` };
  }
}

/** Write zeros into `file` until the file system refuses (ENOSPC); returns the bytes written. */
function fill(file: string): number {
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (const size of [1 << 20, 1 << 16, 1 << 12, 1 << 9, 1]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch {
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

export const diskFull: Drill = {
  name: 'disk-full',
  title: 'the SQLite data dir runs out of space under load',
  async run(ctx: DrillContext, record: DrillRecord) {
    const mounted = await mountTmpfs(32);
    if ('unavailable' in mounted) {
      record.unavailable = mounted.unavailable;
      return;
    }
    const dataDir = mounted.dir;
    const filler = path.join(dataDir, 'filler');
    const node = await createNode({ name: 'node', dataDir });
    try {
      await node.start();
      const writers = new Writers({
        urls: () => [node.url],
        writers: ctx.quick ? 8 : 20,
        tenantName: `drill-disk-${Date.now().toString(36)}`,
        retryMs: 200,
      });
      await writers.setup();
      writers.start();
      await waitFor('appends before the disk fills', async () =>
        writers.acknowledged >= (ctx.quick ? 40 : 200) ? true : undefined,
      );
      const filled = fill(filler);
      const ackedAtFull = writers.acknowledged;
      // While the disk is full: how each refused append answers, and whether the node stays up.
      const probes: { status: number; code: string; ms: number }[] = [];
      const w = writers.list[0]!;
      const until = performance.now() + (ctx.quick ? 3_000 : 10_000);
      while (performance.now() < until) {
        const res = await call(`${node.url}/v1/conversations/${w.patient.conversationId}/turns`, {
          method: 'POST',
          token: w.patient.access,
          body: { role: 'user', content: 'probe while the disk is full', expectedTurn: 0 },
          timeoutMs: 15_000,
        });
        probes.push({
          status: res.status,
          code: String((res.body as { code?: unknown }).code ?? res.failure),
          ms: res.ms,
        });
        await pause(200);
      }
      const health = await call(`${node.url}/healthz`);
      const ackedWhileFull = writers.acknowledged - ackedAtFull;
      rmSync(filler);
      const freedAt = performance.now();
      const resumed = writers.acknowledged;
      await waitFor('appends after space is freed', async () =>
        writers.acknowledged >= resumed + 20 ? true : undefined,
      );
      const recoverMs = performance.now() - freedAt;
      await writers.stop();
      // A probe names turn 0, so where SQLite still finds room (WAL pages it reuses) it gets 409 and changes nothing;
      // every other answer must be the clear refusal, for the probes and for the writers' attempts alike.
      const answered = probes.filter((p) => p.status === 409 && p.code === 'turn_conflict').length;
      const refused = probes.filter((p) => !(p.status === 409 && p.code === 'turn_conflict'));
      const clear = refused.filter((p) => p.status === 503 && p.code === 'store_unavailable');
      const codes = [...new Set(refused.map((p) => `${p.status} ${p.code}`))].join(', ');
      record.check(
        'appends refused while the disk is full: all 503 store_unavailable',
        clear.length > 0 && clear.length === refused.length,
        `${clear.length} of ${refused.length}${clear.length === refused.length ? '' : `: ${codes}`}`,
      );
      const writerCodes = Object.keys(writers.list.reduce((all, w) => Object.assign(all, w.refusals), {}));
      record.check(
        "the writers' refused attempts: all 503 store_unavailable",
        writerCodes.every((code) => code === '503 store_unavailable'),
        writerCodes.join(', ') || 'none',
      );
      record.figure('probes the store could still answer (409, WAL space reused)', answered);
      const slowest = Math.max(...probes.map((p) => p.ms));
      record.check('refusals are fast (< 5 s each)', slowest < 5_000, `slowest ${Math.round(slowest)} ms`);
      record.check('the node stays up (/healthz 200)', health.status === 200 && node.running, health.status);
      record.check(
        'appends carry on once space is freed',
        writers.acknowledged > resumed,
        writers.acknowledged - resumed,
      );
      record.figure('tmpfs size (MiB)', 32);
      record.figure('bytes written to fill it', filled);
      record.figure(
        'appends acknowledged after the disk filled (in flight, or fitting in the last pages)',
        ackedWhileFull,
      );
      record.figure('space freed to acknowledged appends again (ms)', Math.round(recoverMs));

      // The quick run checks the record on the node that lived through it; the full run on a restarted one.
      if (ctx.quick) record.verified(await writers.verify(node.url));
      await node.stop();
      const db = new Database(path.join(dataDir, SQLITE_FILE));
      const integrity = db.pragma('integrity_check', { simple: true });
      db.close();
      record.check('SQLite integrity_check after the drill', integrity === 'ok', String(integrity));
      const verify = await run(process.execPath, [path.join(REPO_ROOT, 'bin/continuum.mjs'), 'audit', 'verify'], {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CONTINUUM_DATA_DIR: dataDir },
      }).then(
        (r) => ({ ok: true, out: r.stdout.trim() }),
        (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() }),
      );
      record.check(
        'continuum audit verify on the data dir',
        verify.ok,
        verify.out.split('\n').join('; ').slice(0, 300),
      );
      if (!ctx.quick) {
        await node.start();
        record.verified(await writers.verify(node.url));
      }
    } finally {
      await node.stop().catch(() => undefined);
      await run('umount', [dataDir]).catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
