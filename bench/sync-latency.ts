/**
 * WebSocket sync (issue 7): publish-to-receive latency with many connected
 * sockets, on one node and across two nodes through Redis, and the server
 * memory each idle socket costs.
 *
 * Each node is a real app (`buildApp`) in a worker thread of its own (its
 * own event loop and heap, as a process would have), listening on loopback;
 * the sockets are real `ws` clients in another worker, each authenticated
 * and subscribed through the sync protocol. "Publish" is an append to a
 * conversation's event log, the path a reply's deltas take; the clock starts
 * in the node just before it and stops when a socket's frame is parsed in
 * the clients' worker (`performance.timeOrigin + now()`: one clock for every
 * thread). Events go out one at a time, `intervalMs` apart, round-robin over
 * the conversations, so the figures are latency, not saturation.
 *
 * Across nodes, the sockets are on node B and the events are appended on
 * node A: the event is stored, node A announces it on Redis, node B wakes
 * its subscribers, which read it from the shared store (one read per
 * conversation) and send it. The store is one SQLite file both nodes open,
 * or PostgreSQL when `databaseUrl` is given.
 *
 *   node --import tsx bench/sync-latency.ts [--sockets 1000] [--conversations 100] [--events 500] [--interval 5]
 *   (cross-node needs CONTINUUM_TEST_REDIS_URL; with CONTINUUM_TEST_DATABASE_URL it runs on PostgreSQL)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import pg from 'pg';
import WebSocket from 'ws';
import { configWith } from '../src/config/index.ts';
import { asConversationId, asTenantId } from '../src/core/types.ts';
import { createLocalKeyProvider } from '../src/crypto/local-key-provider.ts';
import { buildApp, type ContinuumApp } from '../src/server/app.ts';
import { MASTER_KEY_FILE, SQLITE_FILE } from '../src/server/runtime.ts';
import { createPostgresStore } from '../src/store/adapters/postgres/postgres-store.ts';
import { createSqliteStore } from '../src/store/adapters/sqlite/sqlite-store.ts';
import { type LatencySummary, round, summarize } from './lib/stats.ts';

export interface SyncLatencyOptions {
  /** Sockets connected and subscribed at once. */
  sockets: number;
  /** The sockets are spread evenly over this many conversations (1: all follow one). */
  conversations: number;
  /** Events published per scenario (after a warm-up of a tenth as many). */
  events: number;
  /** Pause between two publishes. */
  intervalMs: number;
  /** Redis for the cross-node scenario; skipped without it. */
  redisUrl?: string;
  /** PostgreSQL as the shared store of the cross-node scenario (else one SQLite file). */
  databaseUrl?: string;
  log?: (line: string) => void;
}

export interface LatencyFigures extends LatencySummary {
  /** Frames that should have arrived and did not within the deadline. */
  lost: number;
}

export interface SyncLatencyFigures {
  sockets: number;
  conversations: number;
  events: number;
  sameNode: LatencyFigures;
  crossNode: (LatencyFigures & { store: 'sqlite' | 'postgres' }) | { skipped: string };
  /** Server memory per idle subscribed socket (the node's heap and external memory), bytes. */
  idleSocketBytes: number;
}

const ADMIN = 'bench-operator-token-0123456789';
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface NodeSpec {
  dataDir: string;
  /** PostgreSQL (URL and schema), else the SQLite file in `dataDir`. */
  postgres?: { url: string; schema: string };
  redis?: { url: string; prefix: string };
}

interface Seeded {
  tenantId: string;
  token: string;
  ids: string[];
}

/** A worker thread running one role of this file, answering commands. */
class Thread {
  readonly #worker: Worker;
  #next = 0;
  #stopped = false;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(role: 'node' | 'clients', spec?: NodeSpec) {
    // A worker does not inherit the TypeScript loader: register it, then load this file.
    const entry = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
    this.#worker = new Worker(entry, { eval: true, workerData: { role: `sync-bench-${role}`, spec } });
    this.#worker.on('message', (message: { reply: number; value?: unknown; error?: string }) => {
      const pending = this.#pending.get(message.reply);
      this.#pending.delete(message.reply);
      if (message.error === undefined) pending?.resolve(message.value);
      else pending?.reject(new Error(message.error));
    });
  }

  call<T>(command: string, args: unknown = {}): Promise<T> {
    const reply = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(reply, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage({ reply, command, args });
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.call('stop').catch(() => undefined);
    await this.#worker.terminate();
  }
}

/** Serve a worker's commands with `handlers`. */
function serve(handlers: Record<string, (args: never) => unknown>): void {
  parentPort!.on('message', async (message: { reply: number; command: string; args: never }) => {
    try {
      const value = await handlers[message.command]!(message.args);
      parentPort!.postMessage({ reply: message.reply, value });
    } catch (error) {
      parentPort!.postMessage({ reply: message.reply, error: String((error as Error).stack ?? error) });
    }
  });
}

/** The node role: one app; `seed`, `publish`, `memory` (after a full GC) and `stop`. */
async function runNode(spec: NodeSpec): Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const store =
    spec.postgres === undefined
      ? createSqliteStore({ filename: path.join(spec.dataDir, SQLITE_FILE) })
      : createPostgresStore({ connectionString: spec.postgres.url, schema: spec.postgres.schema, poolSize: 20 });
  await store.migrate();
  const config = configWith({
    dataDir: spec.dataDir,
    rateLimitPerTenant: 0,
    rateLimitPerSubject: 0,
    maxSessionsPerTenant: 0,
    logLevel: 'silent',
    ...(spec.redis === undefined ? {} : { redisUrl: spec.redis.url, redisPrefix: spec.redis.prefix }),
  });
  const keyProvider = await createLocalKeyProvider({ keyFile: path.join(spec.dataDir, MASTER_KEY_FILE) });
  const node: ContinuumApp = await buildApp(config, { store, keyProvider, adminToken: ADMIN, logger: false });
  const base = await node.app.listen({ host: '127.0.0.1', port: 0 });
  const inject = async (url: string, body: unknown, token?: string) => {
    const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const res = await node.app.inject({ method: 'POST', url, payload: body as never, headers });
    if (res.statusCode >= 300) throw new Error(`POST ${url}: ${res.statusCode} ${res.body}`);
    return res.json() as Record<string, string>;
  };
  serve({
    base: () => base,
    async seed(args: { conversations: number }): Promise<Seeded> {
      const tenant = await inject('/v1/admin/tenants', { name: `sync-bench-${Date.now().toString(36)}` }, ADMIN);
      const grant = { grant_type: 'api_key', api_key: tenant['apiKey'], subject: 'bench-1' };
      const token = (await inject('/v1/auth/token', grant))['access_token']!;
      const ids: string[] = [];
      for (let n = 0; n < args.conversations; n++) ids.push((await inject('/v1/conversations', {}, token))['id']!);
      return { tenantId: tenant['tenantId']!, token, ids };
    },
    async publish(args: { tenantId: string; ids: string[]; count: number; intervalMs: number }) {
      for (let n = 0; n < args.count; n++) {
        const id = asConversationId(args.ids[n % args.ids.length]!);
        const data = JSON.stringify({ text: 'Take one tablet twice a day with food.', t0: now() });
        await node.services.events.append(asTenantId(args.tenantId), id, { turn: 1, event: 'delta', data });
        await sleep(args.intervalMs);
      }
    },
    memory() {
      gc();
      gc();
      const heap = v8.getHeapStatistics();
      return heap.used_heap_size + heap.external_memory;
    },
    async stop() {
      await node.app.close();
      await store.close();
    },
  });
}

/** The clients role: `connect` opens and subscribes sockets, `count`/`take` report latencies, `close` ends them. */
function runClients(): void {
  const sockets: WebSocket[] = [];
  let samples: number[] = [];
  const open = (base: string, id: string, token: string) =>
    new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/conversations/${id}/sync`);
      sockets.push(socket);
      socket.on('error', reject);
      socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token })));
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; data?: { t0?: number } };
        if (frame.type === 'event') {
          if (frame.data?.t0 !== undefined) samples.push(now() - frame.data.t0);
        } else if (frame.type === 'ready') socket.send(JSON.stringify({ type: 'subscribe' }));
        else if (frame.type === 'subscribed') resolve();
        else if (frame.type === 'error') reject(new Error(JSON.stringify(frame)));
      });
    });
  const close = () => {
    for (const socket of sockets.splice(0)) socket.terminate();
    samples = [];
  };
  serve({
    async connect(args: { base: string; token: string; ids: string[]; perConversation: number }) {
      // One socket per conversation at a time: connection storms are not what this measures.
      for (let n = 0; n < args.perConversation; n++)
        await Promise.all(args.ids.map((id) => open(args.base, id, args.token)));
    },
    count: () => samples.length,
    take() {
      const taken = samples;
      samples = [];
      return taken;
    },
    close,
    stop: close,
  });
}

/** Publish on `publisher`, collect on `clients`: a warm-up, then the measured events. */
async function measure(
  publisher: Thread,
  clients: Thread,
  seeded: Seeded,
  perConversation: number,
  o: SyncLatencyOptions,
) {
  const round = async (count: number): Promise<number[]> => {
    await publisher.call('publish', { tenantId: seeded.tenantId, ids: seeded.ids, count, intervalMs: o.intervalMs });
    const deadline = Date.now() + 30_000;
    while ((await clients.call<number>('count')) < count * perConversation && Date.now() < deadline) await sleep(50);
    return clients.call<number[]>('take');
  };
  await round(Math.max(1, Math.round(o.events / 10)));
  const samples = await round(o.events);
  return { ...summarize(samples), lost: Math.max(0, o.events * perConversation - samples.length) };
}

/** Run both scenarios; see the file's header for what is measured. */
export async function runSyncLatency(options: SyncLatencyOptions): Promise<SyncLatencyFigures> {
  const log = options.log ?? (() => {});
  const perConversation = Math.max(1, Math.floor(options.sockets / options.conversations));
  const sockets = perConversation * options.conversations;
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'continuum-bench-sync-'));
    dirs.push(dir);
    return dir;
  };
  const threads: Thread[] = [];
  const start = (role: 'node' | 'clients', spec?: NodeSpec) => {
    const thread = new Thread(role, spec);
    threads.push(thread);
    return thread;
  };
  const schema = `sync_bench_${Date.now().toString(36)}`;
  try {
    const clients = start('clients');
    const single = start('node', { dataDir: tempDir() });
    const one = await single.call<Seeded>('seed', { conversations: options.conversations });
    const before = await single.call<number>('memory');
    log(`sync: connecting ${sockets} sockets to one node`);
    const base = await single.call<string>('base');
    await clients.call('connect', { base, token: one.token, ids: one.ids, perConversation });
    await sleep(1000);
    const idleSocketBytes = ((await single.call<number>('memory')) - before) / sockets;
    const sameNode = await measure(single, clients, one, perConversation, options);
    log(`sync: one node p50 ${round(sameNode.p50)} ms, p99 ${round(sameNode.p99)} ms`);
    await clients.call('close');
    await single.stop();

    let crossNode: SyncLatencyFigures['crossNode'] = { skipped: 'set CONTINUUM_TEST_REDIS_URL' };
    if (options.redisUrl !== undefined) {
      const shared = tempDir();
      const spec: NodeSpec = {
        dataDir: shared,
        redis: { url: options.redisUrl, prefix: `${schema}:` },
        ...(options.databaseUrl === undefined ? {} : { postgres: { url: options.databaseUrl, schema } }),
      };
      const a = start('node', spec);
      await a.call('base'); // migrated before the second node opens the store
      const b = start('node', spec);
      const seeded = await a.call<Seeded>('seed', { conversations: options.conversations });
      log(`sync: connecting ${sockets} sockets to node B`);
      await clients.call('connect', {
        base: await b.call<string>('base'),
        token: seeded.token,
        ids: seeded.ids,
        perConversation,
      });
      await sleep(1000);
      const figures = await measure(a, clients, seeded, perConversation, options);
      log(`sync: two nodes p50 ${round(figures.p50)} ms, p99 ${round(figures.p99)} ms`);
      crossNode = { ...figures, store: options.databaseUrl === undefined ? 'sqlite' : 'postgres' };
    }
    return {
      sockets,
      conversations: options.conversations,
      events: options.events,
      sameNode,
      crossNode,
      idleSocketBytes,
    };
  } finally {
    for (const thread of threads) await thread.stop();
    if (options.databaseUrl !== undefined && options.redisUrl !== undefined) {
      const client = new pg.Client({ connectionString: options.databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** The report table: publish-to-receive latency on one node and across two, and memory per idle socket. */
export function syncLatencyTable(figures: SyncLatencyFigures): string {
  const row = (name: string, f: SyncLatencyFigures['sameNode'] | SyncLatencyFigures['crossNode']) =>
    'skipped' in f
      ? `| ${name} | skipped: ${f.skipped} | | | |`
      : `| ${name} | ${round(f.p50)} | ${round(f.p99)} | ${round(f.max)} | ${f.n.toLocaleString('en-US')} (${f.lost} lost) |`;
  const cross = figures.crossNode;
  return [
    `${figures.sockets} sockets over ${figures.conversations} conversations, ${figures.events} events per scenario`,
    '',
    '| scenario | p50 ms | p99 ms | max ms | frames received |',
    '|---|---|---|---|---|',
    row('one node', figures.sameNode),
    row('skipped' in cross ? 'two nodes (Redis)' : `two nodes (Redis, ${cross.store})`, cross),
    '',
    `server memory per idle subscribed socket: ${(figures.idleSocketBytes / 1024).toFixed(1)} KiB`,
  ].join('\n');
}

const role = isMainThread ? undefined : (workerData as { role?: string; spec?: NodeSpec } | null)?.role;
if (role === 'sync-bench-clients') {
  runClients();
} else if (role === 'sync-bench-node') {
  await runNode((workerData as { spec: NodeSpec }).spec);
} else if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      sockets: { type: 'string', default: '1000' },
      conversations: { type: 'string', default: '100' },
      events: { type: 'string', default: '500' },
      interval: { type: 'string', default: '5' },
    },
  });
  const figures = await runSyncLatency({
    sockets: Number(values.sockets),
    conversations: Number(values.conversations),
    events: Number(values.events),
    intervalMs: Number(values.interval),
    ...(process.env.CONTINUUM_TEST_REDIS_URL ? { redisUrl: process.env.CONTINUUM_TEST_REDIS_URL } : {}),
    ...(process.env.CONTINUUM_TEST_DATABASE_URL ? { databaseUrl: process.env.CONTINUUM_TEST_DATABASE_URL } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  await new Promise((resolve) => process.stdout.write(`${syncLatencyTable(figures)}\n`, resolve));
  process.exit(0);
}
