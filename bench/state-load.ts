/**
 * State load: what a request pays to load a conversation's state — the
 * conversation (`get`, which verifies its hash chain) plus its 20 most recent
 * turns (`listTurns`, each checked and decrypted). Measured in-process through
 * the real service layer on a real SQLite file:
 *
 * - cold: the first load on a freshly built app on the same data dir (the
 *   node has never seen the conversation: full chain walk, tenant data key
 *   unwrapped, SQLite page cache empty);
 * - warm: repeated loads on one app after warm-up (incremental verification).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Principal } from '../src/auth/principal.ts';
import { configWith } from '../src/config/index.ts';
import { asTenantId } from '../src/core/types.ts';
import { createLocalKeyProvider } from '../src/crypto/local-key-provider.ts';
import { type AppDeps, buildApp } from '../src/server/app.ts';
import { MASTER_KEY_FILE, SQLITE_FILE } from '../src/server/runtime.ts';
import type { Services } from '../src/server/services.ts';
import { createSqliteStore } from '../src/store/adapters/sqlite/sqlite-store.ts';
import type { ClinicalTurn } from './lib/clinical-text.ts';
import { type LatencySummary, summarize } from './lib/stats.ts';

export interface StateLoadOptions {
  /** Conversation lengths in turns. */
  sizes: number[];
  /** Fresh app instances per size; each contributes one cold sample. */
  coldRuns: number;
  /** Untimed loads before the warm samples. */
  warmupIterations: number;
  /** Timed warm loads per size. */
  warmIterations: number;
  /** Turns read with the conversation. */
  recentTurns: number;
  turns: readonly ClinicalTurn[];
  log?: (line: string) => void;
}

export interface StateLoadFigures {
  turns: number;
  /** Building the conversation through `ConversationService.append`, one turn at a time. */
  build: { ms: number; appendsPerSecond: number };
  cold: LoadFigures;
  warm: LoadFigures;
}

/**
 * Wall-clock latency of whole loads, the p50 of each half, and the CPU time
 * the process spent per load: on a busy machine the gap between wall and
 * CPU p99 is time spent waiting for a core.
 */
export type LoadFigures = LatencySummary & { getP50: number; recentP50: number; cpuP50: number; cpuP99: number };

export interface LoadSample {
  get: number;
  recent: number;
  cpu: number;
}

const BENCH_ADMIN_TOKEN = 'bench-operator-token-0123456789';
const BENCH_SUBJECT = 'bench-clinician';

export interface Instance {
  app: FastifyInstance;
  services: Services;
  close(): Promise<void>;
}

/**
 * What a benchmark swaps out: encryption and audit (bench/compliance-cost.ts),
 * the model provider (bench/first-delta.ts); nothing by default.
 */
export type InstanceOverrides = Pick<AppDeps, 'cipher' | 'auditTrail' | 'model'>;

/** Settings on top of the benchmark's own (e.g. `maxStreamsPerTenant`). */
export type InstanceSettings = Parameters<typeof configWith>[0];

/** One app on `dataDir`, wired as the server wires it (rate limits and session limit off). */
export async function openInstance(
  dataDir: string,
  overrides: InstanceOverrides = {},
  settings: InstanceSettings = {},
): Promise<Instance> {
  const config = configWith({
    dataDir,
    rateLimitPerTenant: 0,
    rateLimitPerSubject: 0,
    maxSessionsPerTenant: 0,
    logLevel: 'silent',
    ...settings,
  });
  const store = createSqliteStore({ filename: path.join(dataDir, SQLITE_FILE), synchronous: config.sqliteSync });
  await store.migrate();
  const keyProvider = await createLocalKeyProvider({ keyFile: path.join(dataDir, MASTER_KEY_FILE) });
  const { app, services } = await buildApp(config, {
    store,
    keyProvider,
    adminToken: BENCH_ADMIN_TOKEN,
    logger: false,
    ...overrides,
  });
  return {
    app,
    services,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

/** A tenant through the HTTP contract (stable); the principal of one of its subjects. */
export async function createBenchTenant(app: FastifyInstance, name: string): Promise<Principal> {
  return (await createBenchTenantWithKey(app, name)).principal;
}

/** A tenant, the principal of its subject `bench-clinician`, and its API key (to issue that subject a token). */
export async function createBenchTenantWithKey(
  app: FastifyInstance,
  name: string,
): Promise<{ principal: Principal; apiKey: string }> {
  const created = await app.inject({
    method: 'POST',
    url: '/v1/admin/tenants',
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
    payload: { name },
  });
  if (created.statusCode !== 201) throw new Error(`create tenant: ${created.statusCode} ${created.body}`);
  const body = created.json() as { tenantId: string; apiKey: string };
  return {
    principal: {
      tenantId: asTenantId(body.tenantId),
      subject: BENCH_SUBJECT,
      scope: 'conversations',
      tokenId: 'bench',
      familyId: 'bench',
    },
    apiKey: body.apiKey,
  };
}

/** An access token for `subject` of the tenant holding `apiKey` (api_key grant, in-process). */
export async function issueBenchToken(app: FastifyInstance, apiKey: string, subject = BENCH_SUBJECT): Promise<string> {
  const issued = await app.inject({
    method: 'POST',
    url: '/v1/auth/token',
    payload: { grant_type: 'api_key', api_key: apiKey, subject },
  });
  const token = (issued.json() as { access_token?: string }).access_token;
  if (issued.statusCode !== 200 || token === undefined) throw new Error(`token: ${issued.statusCode} ${issued.body}`);
  return token;
}

/** One state load; returns the time of each half in ms. */
export async function loadState(
  services: Services,
  principal: Principal,
  id: string,
  recentTurns: number,
): Promise<LoadSample> {
  const cpuStarted = process.cpuUsage();
  const started = performance.now();
  const conversation = await services.conversations.get(principal, id);
  const loaded = performance.now();
  const turns = await services.conversations.listTurns(
    principal,
    id,
    Math.max(0, conversation.turn - recentTurns),
    recentTurns,
  );
  const finished = performance.now();
  const cpu = process.cpuUsage(cpuStarted);
  const expected = Math.min(recentTurns, conversation.turn);
  if (turns.length !== expected || (expected > 0 && turns.at(-1)?.number !== conversation.turn)) {
    throw new Error(`state load of ${id} returned ${turns.length} turns, expected the last ${expected}`);
  }
  return { get: loaded - started, recent: finished - loaded, cpu: (cpu.user + cpu.system) / 1000 };
}

export function loadFigures(samples: LoadSample[]): LoadFigures {
  const cpu = summarize(samples.map((s) => s.cpu));
  return {
    ...summarize(samples.map((s) => s.get + s.recent)),
    getP50: summarize(samples.map((s) => s.get)).p50,
    recentP50: summarize(samples.map((s) => s.recent)).p50,
    cpuP50: cpu.p50,
    cpuP99: cpu.p99,
  };
}

/**
 * Conversations of the given lengths on one data dir, every turn appended
 * through `ConversationService.append` (which also keeps each working
 * context up to date); shared by the state-load and context-load parts.
 */
export interface BuiltConversations {
  dataDir: string;
  principal: Principal;
  /** The tenant's API key: issue {@link BuiltConversations.principal}'s subject a token with it. */
  apiKey: string;
  conversations: { turns: number; id: string; build: StateLoadFigures['build'] }[];
  /** Delete the data dir. */
  remove(): void;
}

export async function buildConversations(
  sizes: number[],
  turns: readonly ClinicalTurn[],
  log: (line: string) => void = () => {},
): Promise<BuiltConversations> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-bench-state-'));
  const remove = () => rmSync(dataDir, { recursive: true, force: true });
  try {
    const builder = await openInstance(dataDir);
    const { principal, apiKey } = await createBenchTenantWithKey(builder.app, 'bench-state-load');
    const conversations: BuiltConversations['conversations'] = [];
    // Every conversation ends with the same turns (the longest one's last ones), so a short and a long
    // conversation differ only in how much history lies behind the same recent window.
    const end = Math.max(...sizes);
    for (const size of sizes) {
      let cursor = end - size;
      const { conversation } = await builder.services.conversations.create(principal, {
        title: `Visit transcript, ${size} turns`,
        metadata: { purpose: 'bench' },
      });
      const started = performance.now();
      for (let turn = 0; turn < size; turn++) {
        const source = turns[cursor++ % turns.length]!;
        await builder.services.conversations.append(principal, conversation.id, {
          role: source.role,
          content: source.content,
          expectedTurn: turn,
        });
      }
      const ms = performance.now() - started;
      conversations.push({ turns: size, id: conversation.id, build: { ms, appendsPerSecond: (size / ms) * 1000 } });
      log(`  built ${size.toLocaleString('en-US')} turns in ${(ms / 1000).toFixed(1)} s`);
    }
    await builder.close();
    return { dataDir, principal, apiKey, conversations, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

/** State load of every size in `options.sizes`, on `shared` conversations when given (else built here and removed). */
export async function runStateLoad(
  options: StateLoadOptions,
  shared?: BuiltConversations,
): Promise<StateLoadFigures[]> {
  const log = options.log ?? (() => {});
  const data = shared ?? (await buildConversations(options.sizes, options.turns, log));
  const { dataDir, principal } = data;
  const built = data.conversations.filter((c) => options.sizes.includes(c.turns));
  try {
    // Cold: each sample is the first load on a new app instance. Sizes take turns so JIT warm-up is spread.
    const cold = new Map<number, LoadSample[]>(built.map((b) => [b.turns, []]));
    for (let run = 0; run < options.coldRuns; run++) {
      for (const conversation of built) {
        const instance = await openInstance(dataDir);
        try {
          cold
            .get(conversation.turns)!
            .push(await loadState(instance.services, principal, conversation.id, options.recentTurns));
        } finally {
          await instance.close();
        }
      }
    }
    log(`  cold: ${options.coldRuns} fresh instances per size`);

    // Warm: one instance, repeated loads.
    const results: StateLoadFigures[] = [];
    const instance = await openInstance(dataDir);
    try {
      for (const conversation of built) {
        for (let i = 0; i < options.warmupIterations; i++) {
          await loadState(instance.services, principal, conversation.id, options.recentTurns);
        }
        const samples: LoadSample[] = [];
        for (let i = 0; i < options.warmIterations; i++) {
          samples.push(await loadState(instance.services, principal, conversation.id, options.recentTurns));
        }
        results.push({
          turns: conversation.turns,
          build: conversation.build,
          cold: loadFigures(cold.get(conversation.turns)!),
          warm: loadFigures(samples),
        });
      }
    } finally {
      await instance.close();
    }
    log(`  warm: ${options.warmIterations} loads per size after ${options.warmupIterations} warm-up loads`);
    return results;
  } finally {
    if (!shared) data.remove();
  }
}
