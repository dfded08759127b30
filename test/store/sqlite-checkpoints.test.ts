import { existsSync, mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import type { TenantId } from '../../src/core/types.ts';
import { createMetrics, type Metrics } from '../../src/observability/metrics.ts';
import { CheckpointFailureRelay, checkpointMetrics, openStore, SQLITE_FILE } from '../../src/server/runtime.ts';
import { CHECKPOINT_EVERY_COMMITS, type CheckpointResult } from '../../src/store/adapters/sqlite/checkpointer.ts';
import type { CheckpointFailure } from '../../src/store/adapters/sqlite/connection.ts';
import { createSqliteStore } from '../../src/store/adapters/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/port.ts';
import { markerEvent } from './fixtures.ts';

const TENANT = 'tenant-checkpoints' as TenantId;

/** SQLite's default page size and the WAL's per-frame header: one frame of the WAL file. */
const FRAME_BYTES = 4096 + 24;

let dir: string;
let filename: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'continuum-checkpoints-'));
  filename = path.join(dir, 'continuum.db');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

let written = 0;

/** `n` commits, one after another, each a new audit event (new rows: every commit adds frames to the WAL). */
async function commit(store: Store, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await store.appendAudit(TENANT, [markerEvent(`m${++written}`)], new Date());
}

/** The checkpoints counted in `metrics`, by outcome, and how many were timed. */
async function counted(metrics: Metrics): Promise<{ outcomes: Record<string, number>; timed: number }> {
  const outcomes: Record<string, number> = {};
  for (const { labels, value } of (await metrics.sqliteCheckpoints.get()).values) {
    outcomes[String(labels.outcome)] = value;
  }
  const timed = (await metrics.sqliteCheckpointSeconds.get()).values.find((v) => v.metricName?.endsWith('_count'));
  return { outcomes, timed: timed?.value ?? 0 };
}

const walBytes = () => (existsSync(`${filename}-wal`) ? statSync(`${filename}-wal`).size : 0);

describe('SQLite WAL checkpoints on a worker thread', () => {
  it('copies the WAL into the database every 64 commits, with nothing left behind', async () => {
    const results: CheckpointResult[] = [];
    const store = createSqliteStore({ filename, onCheckpoint: (r) => results.push(r) });
    await store.migrate();
    for (let round = 1; round <= 4; round++) {
      await commit(store, CHECKPOINT_EVERY_COMMITS - 1);
      expect(results).toHaveLength(round - 1);
      await commit(store, 1);
      await vi.waitFor(() => expect(results).toHaveLength(round), { timeout: 10_000 });
    }
    for (const result of results) {
      expect(result.busy).toBe(0);
      // Each round's commits, each at least one new frame (the WAL restarts after a complete checkpoint).
      expect(result.log).toBeGreaterThanOrEqual(CHECKPOINT_EVERY_COMMITS);
      expect(result.checkpointed).toBe(result.log);
    }
    await store.close();
  });

  it('keeps the WAL as small as a checkpoint every 64 commits allows: it restarts after each', async () => {
    const results: CheckpointResult[] = [];
    const store = createSqliteStore({ filename, onCheckpoint: (r) => results.push(r) });
    await store.migrate();
    for (let round = 1; round <= 10; round++) {
      await commit(store, CHECKPOINT_EVERY_COMMITS);
      await vi.waitFor(() => expect(results).toHaveLength(round), { timeout: 10_000 });
    }
    // Without checkpoints, the WAL would hold every frame of the ten rounds.
    const frames = results.reduce((sum, r) => sum + r.log, 0);
    const largest = Math.max(...results.map((r) => r.log));
    expect(frames).toBeGreaterThanOrEqual(10 * CHECKPOINT_EVERY_COMMITS);
    expect(walBytes()).toBeLessThanOrEqual(32 + largest * FRAME_BYTES);
    await store.close();
  });

  it('closes cleanly: the last connection checkpoints the WAL away, and every write is in the database', async () => {
    const store = createSqliteStore({ filename });
    await store.migrate();
    await commit(store, 2 * CHECKPOINT_EVERY_COMMITS + 5);
    await store.close();
    expect(existsSync(`${filename}-wal`)).toBe(false);
    const db = new Database(filename, { readonly: true });
    try {
      const { n } = db.prepare('SELECT count(*) AS n FROM audit_events WHERE tenant_id = ?').get(TENANT) as {
        n: number;
      };
      expect(n).toBe(2 * CHECKPOINT_EVERY_COMMITS + 5);
    } finally {
      db.close();
    }
  });

  it('hands checkpoints back to SQLite, with a warning, when its thread cannot open the database', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const store = createSqliteStore({ filename });
      await store.migrate();
      // The store keeps its open file; the thread, which opens the path when first needed, finds nothing there.
      unlinkSync(filename);
      await commit(store, CHECKPOINT_EVERY_COMMITS);
      await vi.waitFor(() => expect(warnings.length).toBeGreaterThan(0), { timeout: 10_000 });
      expect((warnings[0] as Error & { code?: string }).code).toBe('CONTINUUM_SQLITE_CHECKPOINT');
      expect(warnings[0]!.message).toMatch(/SQLite checkpoints the WAL inside commits again/);
      // The reason is the thread's own: the file it could not open.
      expect(warnings[0]!.message).toContain(`cannot open ${filename}`);
      // SQLite's own checkpoint (at 1,000 pages) is back: the WAL restarts instead of growing past it.
      await commit(store, 1500);
      expect(walBytes()).toBeLessThanOrEqual(1100 * FRAME_BYTES);
      await store.close();
    } finally {
      process.off('warning', onWarning);
    }
  });

  it("counts every checkpoint and its time in the server's metrics (the store `serve` opens)", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const store = await openStore(loadConfig({ CONTINUUM_DATA_DIR: dir }), { metrics });
    expect(path.join(dir, SQLITE_FILE)).toBe(filename);
    await store.migrate();
    for (let round = 1; round <= 3; round++) {
      await commit(store, CHECKPOINT_EVERY_COMMITS);
      // Nothing else reads the file: every frame is copied each time.
      await vi.waitFor(
        async () => expect(await counted(metrics)).toEqual({ outcomes: { complete: round }, timed: round }),
        {
          timeout: 10_000,
        },
      );
    }
    await store.close();
  });

  it('counts checkpoints handed back to SQLite, once, when the thread cannot open the database', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const onWarning = () => {};
    process.on('warning', onWarning);
    try {
      const store = createSqliteStore({ filename, ...checkpointMetrics(metrics) });
      await store.migrate();
      unlinkSync(filename);
      await commit(store, CHECKPOINT_EVERY_COMMITS);
      await vi.waitFor(async () => expect((await counted(metrics)).outcomes).toEqual({ handed_back: 1 }), {
        timeout: 10_000,
      });
      // No thread runs them any more: nothing else is counted, however many commits follow.
      await commit(store, 2 * CHECKPOINT_EVERY_COMMITS);
      expect(await counted(metrics)).toEqual({ outcomes: { handed_back: 1 }, timed: 0 });
      await store.close();
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('leaves checkpoints to SQLite when turned off', async () => {
    const results: CheckpointResult[] = [];
    const store = createSqliteStore({
      filename,
      backgroundCheckpoints: false,
      onCheckpoint: (r) => results.push(r),
    });
    await store.migrate();
    await commit(store, 1500);
    expect(results).toEqual([]);
    // SQLite's own checkpoint at 1,000 pages restarts the WAL instead of letting it grow past that.
    expect(walBytes()).toBeLessThanOrEqual(1100 * FRAME_BYTES);
    await store.close();
  });

  it('runs none for a database in memory', async () => {
    const results: CheckpointResult[] = [];
    const store = createSqliteStore({ filename: ':memory:', onCheckpoint: (r) => results.push(r) });
    await store.migrate();
    await commit(store, CHECKPOINT_EVERY_COMMITS * 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(results).toEqual([]);
    await store.close();
  });
});

describe('CheckpointFailureRelay (serve opens the store before the app that alerts on its failures)', () => {
  it('holds failures until a listener comes, then passes them on in order, and every later one at once', () => {
    const relay = new CheckpointFailureRelay();
    const heard: string[] = [];
    relay.report({ handedBack: false, reason: 'first' });
    relay.report({ handedBack: true, reason: 'thread gone' });
    relay.listen((failure) => heard.push(`${failure.handedBack}:${failure.reason}`));
    expect(heard).toEqual(['false:first', 'true:thread gone']);
    relay.report({ handedBack: false, reason: 'later' });
    expect(heard).toEqual(['false:first', 'true:thread gone', 'false:later']);
  });

  it('holds a few failures while nobody listens, but never drops a hand-back', () => {
    const relay = new CheckpointFailureRelay();
    for (let i = 0; i < 100; i++) relay.report({ handedBack: false, reason: `failure ${i}` });
    relay.report({ handedBack: true, reason: 'thread gone' });
    const heard: CheckpointFailure[] = [];
    relay.listen((failure) => heard.push(failure));
    expect(heard.length).toBe(17);
    expect(heard.at(-1)).toEqual({ handedBack: true, reason: 'thread gone' });
  });
});
