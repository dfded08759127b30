/**
 * The same state-load and append figures on every store, in one run:
 * SQLite (a file), PostgreSQL (the server named by
 * `CONTINUUM_TEST_DATABASE_URL`, a fresh schema) and DynamoDB (dynalite
 * in-process on loopback behind the tests' transaction front — a real
 * implementation of the API, but a JavaScript one backed by an in-memory
 * LevelDB, so its figures say what the adapter costs, not what DynamoDB's
 * service latency is).
 *
 * Every figure goes through the real service layer (`ConversationService`:
 * encryption, hash chain, audit events in the same write), in-process, no HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Principal } from '../src/auth/principal.ts';
import { configWith } from '../src/config/index.ts';
import { createLocalKeyProvider } from '../src/crypto/local-key-provider.ts';
import { buildApp } from '../src/server/app.ts';
import type { Services } from '../src/server/services.ts';
import { createDynamoStore, createDynamoTable } from '../src/store/adapters/dynamodb/dynamo-store.ts';
import { createPostgresStore } from '../src/store/adapters/postgres/postgres-store.ts';
import { createSqliteStore } from '../src/store/adapters/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/port.ts';
import { startLocalDynamo } from '../test/store/dynamodb-local.ts';
import type { ClinicalTurn } from './lib/clinical-text.ts';
import { type LatencySummary, summarize } from './lib/stats.ts';
import { createBenchTenant, loadState } from './state-load.ts';

export interface StoreCompareOptions {
  /** Turns of the conversation whose state is loaded. */
  turns: number;
  /** Conversations appended to at once for the concurrent figure, and appends to each. */
  concurrentConversations: number;
  concurrentAppends: number;
  warmupIterations: number;
  warmIterations: number;
  recentTurns: number;
  text: readonly ClinicalTurn[];
  log?: (line: string) => void;
}

export interface StoreFigures {
  store: 'sqlite' | 'postgres' | 'dynamodb';
  /** Why the store was not measured, when it was not. */
  skipped?: string;
  /** One writer, one turn at a time: per-append latency and rate. */
  sequentialAppend?: LatencySummary & { perSecond: number };
  /** `concurrentConversations` writers at once, one conversation each. */
  concurrentAppendsPerSecond?: number;
  /** Conversation + its 20 most recent turns, at `turns` turns, warm. */
  stateLoad?: LatencySummary;
}

interface OpenedStore {
  store: Store;
  cleanup(): Promise<void>;
}

const BENCH_ADMIN_TOKEN = 'bench-operator-token-0123456789';

async function openSqlite(): Promise<OpenedStore> {
  const dir = mkdtempSync(path.join(tmpdir(), 'continuum-bench-stores-'));
  const store = createSqliteStore({ filename: path.join(dir, 'continuum.db') });
  return { store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function openPostgres(url: string): Promise<OpenedStore> {
  const schema = `bench_${Date.now().toString(36)}`;
  const store = createPostgresStore({ connectionString: url, schema, poolSize: 20 });
  return {
    store,
    async cleanup() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

async function openDynalite(): Promise<OpenedStore> {
  // dynalite lacks TransactWriteItems; the test front adds it (test/store/dynamodb-local.ts).
  const local = await startLocalDynamo();
  const options = {
    table: 'continuum-bench',
    endpoint: local.endpoint,
    region: 'us-east-1',
    credentials: local.credentials,
  };
  await createDynamoTable(options);
  const store = createDynamoStore(options);
  return { store, cleanup: () => local.close() };
}

async function reachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${url} did not answer (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function measure(opened: OpenedStore, kind: StoreFigures['store'], options: StoreCompareOptions) {
  const log = options.log ?? (() => {});
  const { store } = opened;
  await store.migrate();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-bench-keys-'));
  const keyProvider = await createLocalKeyProvider({ keyFile: path.join(dataDir, 'master-keys.json') });
  const config = configWith({
    dataDir,
    rateLimitPerTenant: 0,
    rateLimitPerSubject: 0,
    maxSessionsPerTenant: 0,
    logLevel: 'silent',
  });
  const { app, services } = await buildApp(config, {
    store,
    keyProvider,
    adminToken: BENCH_ADMIN_TOKEN,
    logger: false,
  });
  try {
    const principal = await createBenchTenant(app, `bench-stores-${kind}`);
    const append = appender(services, principal, options.text);

    const { conversation } = await services.conversations.create(principal, { title: 'bench' });
    const latencies: number[] = [];
    const started = performance.now();
    for (let turn = 0; turn < options.turns; turn++) {
      const t0 = performance.now();
      await append(conversation.id, turn);
      latencies.push(performance.now() - t0);
    }
    const sequentialMs = performance.now() - started;
    log(`  ${kind}: ${options.turns} sequential appends in ${(sequentialMs / 1000).toFixed(1)} s`);

    const ids: string[] = [];
    for (let i = 0; i < options.concurrentConversations; i++) {
      ids.push((await services.conversations.create(principal, { title: `bench ${i}` })).conversation.id);
    }
    const concurrentStarted = performance.now();
    await Promise.all(
      ids.map(async (id) => {
        for (let turn = 0; turn < options.concurrentAppends; turn++) await append(id, turn);
      }),
    );
    const concurrentMs = performance.now() - concurrentStarted;
    const concurrentTotal = options.concurrentConversations * options.concurrentAppends;

    for (let i = 0; i < options.warmupIterations; i++) {
      await loadState(services, principal, conversation.id, options.recentTurns);
    }
    const samples: number[] = [];
    for (let i = 0; i < options.warmIterations; i++) {
      const sample = await loadState(services, principal, conversation.id, options.recentTurns);
      samples.push(sample.get + sample.recent);
    }
    return {
      store: kind,
      sequentialAppend: { ...summarize(latencies), perSecond: (options.turns / sequentialMs) * 1000 },
      concurrentAppendsPerSecond: (concurrentTotal / concurrentMs) * 1000,
      stateLoad: summarize(samples),
    } satisfies StoreFigures;
  } finally {
    await app.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function appender(services: Services, principal: Principal, text: readonly ClinicalTurn[]) {
  let cursor = 0;
  return async (id: string, expectedTurn: number) => {
    const source = text[cursor++ % text.length]!;
    await services.conversations.append(principal, id, {
      role: source.role,
      content: source.content,
      expectedTurn,
    });
  };
}

/** Measure every store this machine has, one after the other; a store that is not there is reported as skipped. */
export async function runStoreComparison(options: StoreCompareOptions): Promise<StoreFigures[]> {
  const results: StoreFigures[] = [];
  const postgresUrl = process.env.CONTINUUM_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
  const candidates: [StoreFigures['store'], () => Promise<OpenedStore | string>][] = [
    ['sqlite', openSqlite],
    ['postgres', async () => (await reachable(postgresUrl)) ?? openPostgres(postgresUrl)],
    ['dynamodb', openDynalite],
  ];
  for (const [kind, open] of candidates) {
    const opened = await open();
    if (typeof opened === 'string') {
      results.push({ store: kind, skipped: `${opened}; set CONTINUUM_TEST_DATABASE_URL` });
      continue;
    }
    try {
      results.push(await measure(opened, kind, options));
    } finally {
      await opened.cleanup();
    }
  }
  return results;
}
