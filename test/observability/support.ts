import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Config, configWith } from '../../src/config/index.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { createLocalKeyProvider } from '../../src/crypto/local-key-provider.ts';
import { buildApp, type ContinuumApp } from '../../src/server/app.ts';
import { MASTER_KEY_FILE, SQLITE_FILE } from '../../src/server/runtime.ts';
import { createSqliteStore } from '../../src/store/adapters/sqlite/sqlite-store.ts';
import { ADMIN_TOKEN } from '../helpers/test-app.ts';

export interface ObservedApp extends ContinuumApp {
  clock: FakeClock;
  dbFile: string;
  close(): Promise<void>;
}

/**
 * A real app on a temp SQLite file (like `buildTestApp`), with the SQLite
 * busy timeout shortened so a test can make the store refuse writes quickly,
 * and optional log capture.
 */
export async function buildObservedApp(
  options: {
    config?: Partial<Record<keyof Config, unknown>>;
    busyTimeoutMs?: number;
    logStream?: { write(line: string): void };
  } = {},
): Promise<ObservedApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-observed-'));
  const clock = new FakeClock(Date.UTC(2026, 10, 25, 8, 0, 0));
  const dbFile = path.join(dataDir, SQLITE_FILE);
  const store = createSqliteStore({ filename: dbFile, busyTimeoutMs: options.busyTimeoutMs ?? 5_000 });
  await store.migrate();
  const keyProvider = await createLocalKeyProvider({ keyFile: path.join(dataDir, MASTER_KEY_FILE) });
  const config = configWith({
    dataDir,
    rateLimitPerTenant: 0,
    rateLimitPerSubject: 0,
    logLevel: 'silent',
    ...options.config,
  });
  const built = await buildApp(config, {
    store,
    keyProvider,
    adminToken: ADMIN_TOKEN,
    clock,
    ...(options.logStream === undefined ? { logger: false as const } : { logStream: options.logStream }),
  });
  return {
    ...built,
    clock,
    dbFile,
    async close() {
      await built.app.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Parse Prometheus text into `name{labels}` → value. */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** The sum of every series of `name` whose labels include each of `labels` (e.g. `route="GET /x"`). */
export function sumOf(values: Map<string, number>, name: string, ...labels: string[]): number {
  let sum = 0;
  for (const [series, value] of values) {
    const bare = series.split('{')[0];
    if (bare !== name) continue;
    if (labels.every((label) => series.includes(label))) sum += value;
  }
  return sum;
}
