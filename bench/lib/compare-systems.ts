/**
 * The four systems of the side-by-side (bench/langgraph-compare.ts), each
 * behind one small interface: start a conversation, save one exchange (a turn
 * and the reply to it), load what the next turn needs.
 *
 * - LangGraph: a chat app's graph, `StateGraph(MessagesAnnotation)` with one
 *   node standing in for the model (it returns the reply as an `AIMessage`),
 *   compiled with the SQLite or PostgreSQL checkpointer and invoked once per
 *   exchange with the conversation's `thread_id`; the load is
 *   `graph.getState(config)` (the latest checkpoint, deserialised).
 * - Continuum: the real service layer in-process (`buildApp` as the server
 *   wires it); an exchange is two `ConversationService.append` calls, the load
 *   is the conversation plus its 20 most recent turns (bench/state-load.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { awaitAllCallbacks } from '@langchain/core/callbacks/promises';
import { AIMessage, type BaseMessage, HumanMessage } from '@langchain/core/messages';
import { END, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import pg from 'pg';
import { configWith } from '../../src/config/index.ts';
import { createLocalKeyProvider } from '../../src/crypto/local-key-provider.ts';
import { buildApp } from '../../src/server/app.ts';
import { MASTER_KEY_FILE, SQLITE_FILE } from '../../src/server/runtime.ts';
import { createPostgresStore } from '../../src/store/adapters/postgres/postgres-store.ts';
import { createSqliteStore } from '../../src/store/adapters/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/port.ts';
import { createBenchTenant, loadState } from '../state-load.ts';
import type { ClinicalTurn } from './clinical-text.ts';

export const SYSTEM_KEYS = [
  'langgraph-sqlite',
  'langgraph-postgres',
  'continuum-sqlite',
  'continuum-postgres',
] as const;
export type SystemKey = (typeof SYSTEM_KEYS)[number];

export const SYSTEM_LABELS: Record<SystemKey, string> = {
  'langgraph-sqlite': 'LangGraph, SQLite checkpointer',
  'langgraph-postgres': 'LangGraph, PostgreSQL checkpointer',
  'continuum-sqlite': 'Continuum, SQLite store',
  'continuum-postgres': 'Continuum, PostgreSQL store',
};

/** One conversation of one system. */
export interface Thread {
  /** Store a turn and the reply to it. */
  save(turn: ClinicalTurn, reply: ClinicalTurn): Promise<void>;
  /** Load what the next turn needs; returns how many turns it brought back. */
  load(): Promise<number>;
  /** Bytes the store holds for this conversation, where the system keeps it apart (LangGraph's tables). */
  storedBytes?(): Promise<number>;
  /** Wait for work an operation leaves running after it returns (Continuum's working context, LangChain's callbacks). */
  settle?(): Promise<void>;
}

export interface System {
  key: SystemKey;
  label: string;
  newThread(): Promise<Thread>;
  /** A conversation already holding `turns`, written in one state update (LangGraph only: `graph.updateState`). */
  seededThread?(turns: readonly ClinicalTurn[]): Promise<Thread>;
  close(): Promise<void>;
}

const BENCH_ADMIN_TOKEN = 'bench-operator-token-0123456789';

function langGraphSystem(
  key: SystemKey,
  checkpointer: SqliteSaver | PostgresSaver,
  bytesOf: (threadId: string) => Promise<number>,
  close: () => Promise<void>,
): System {
  // The node stands in for the model: it answers with the reply the benchmark hands it for this thread.
  const replies = new Map<string, string>();
  const graph = new StateGraph(MessagesAnnotation)
    .addNode('model', async (_state, config) => {
      const threadId = String(config.configurable?.['thread_id']);
      return { messages: [new AIMessage(replies.get(threadId) ?? '')] };
    })
    .addEdge(START, 'model')
    .addEdge('model', END)
    .compile({ checkpointer });

  const thread = (threadId: string): Thread => {
    const config = { configurable: { thread_id: threadId } };
    return {
      async save(turn, reply) {
        replies.set(threadId, reply.content);
        await graph.invoke({ messages: [new HumanMessage(turn.content)] }, config);
      },
      async load() {
        const snapshot = await graph.getState(config);
        return (snapshot.values as { messages?: BaseMessage[] }).messages?.length ?? 0;
      },
      storedBytes: () => bytesOf(threadId),
      // LangChain runs callbacks in the background by default; they finish here, not in the next operation.
      settle: () => awaitAllCallbacks(),
    };
  };
  return {
    key,
    label: SYSTEM_LABELS[key],
    newThread: async () => thread(`bench-${randomUUID()}`),
    async seededThread(turns) {
      const threadId = `bench-${randomUUID()}`;
      const messages = turns.map((t, i) => (i % 2 === 0 ? new HumanMessage(t.content) : new AIMessage(t.content)));
      await graph.updateState({ configurable: { thread_id: threadId } }, { messages }, 'model');
      return thread(threadId);
    },
    close,
  };
}

/** LangGraph's SQLite checkpointer on a temp file (WAL, better-sqlite3's `synchronous = NORMAL`, as Continuum's). */
export async function openLangGraphSqlite(): Promise<System> {
  const dir = mkdtempSync(path.join(tmpdir(), 'continuum-bench-langgraph-'));
  const saver = SqliteSaver.fromConnString(path.join(dir, 'checkpoints.db'));
  // The tables exist once the checkpointer has been used (it creates them on first use).
  const bytes = `SELECT (SELECT COALESCE(SUM(LENGTH(checkpoint) + LENGTH(metadata)), 0) FROM checkpoints WHERE thread_id = ?)
                      + (SELECT COALESCE(SUM(LENGTH(value)), 0) FROM writes WHERE thread_id = ?) AS bytes`;
  return langGraphSystem(
    'langgraph-sqlite',
    saver,
    async (threadId) => (saver.db.prepare(bytes).get(threadId, threadId) as { bytes: number }).bytes,
    async () => {
      saver.db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  );
}

/** LangGraph's PostgreSQL checkpointer in a fresh schema, dropped on close. */
export async function openLangGraphPostgres(url: string): Promise<System> {
  const schema = `bench_langgraph_${Date.now().toString(36)}`;
  const saver = PostgresSaver.fromConnString(url, { schema });
  await saver.setup();
  // The checkpointer keeps its pool to itself; the byte counts go through a connection of their own.
  const sizes = new pg.Pool({ connectionString: url, max: 1 });
  const tables = (name: string) => `"${schema}".${name}`;
  return langGraphSystem(
    'langgraph-postgres',
    saver,
    async (threadId) => {
      const { rows } = await sizes.query<{ bytes: string }>(
        `SELECT (SELECT COALESCE(SUM(OCTET_LENGTH(blob)), 0) FROM ${tables('checkpoint_blobs')} WHERE thread_id = $1)
              + (SELECT COALESCE(SUM(PG_COLUMN_SIZE(checkpoint) + PG_COLUMN_SIZE(metadata)), 0) FROM ${tables('checkpoints')} WHERE thread_id = $1)
              + (SELECT COALESCE(SUM(OCTET_LENGTH(blob)), 0) FROM ${tables('checkpoint_writes')} WHERE thread_id = $1) AS bytes`,
        [threadId],
      );
      return Number(rows[0]?.bytes ?? 0);
    },
    async () => {
      await saver.end();
      await sizes.end();
      await dropSchema(url, schema);
    },
  );
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

async function continuumSystem(
  key: SystemKey,
  store: Store,
  recentTurns: number,
  cleanup: () => Promise<void>,
): Promise<System> {
  const keyDir = mkdtempSync(path.join(tmpdir(), 'continuum-bench-keys-'));
  const config = configWith({
    dataDir: keyDir,
    rateLimitPerTenant: 0,
    rateLimitPerSubject: 0,
    maxSessionsPerTenant: 0,
    logLevel: 'silent',
  });
  const close = async () => {
    await store.close();
    rmSync(keyDir, { recursive: true, force: true });
    await cleanup();
  };
  try {
    await store.migrate();
    const keyProvider = await createLocalKeyProvider({ keyFile: path.join(keyDir, MASTER_KEY_FILE) });
    const { app, services } = await buildApp(config, {
      store,
      keyProvider,
      adminToken: BENCH_ADMIN_TOKEN,
      logger: false,
    });
    const principal = await createBenchTenant(app, `bench-${key}`);
    return {
      key,
      label: SYSTEM_LABELS[key],
      async newThread() {
        const { conversation } = await services.conversations.create(principal, { title: 'Visit transcript' });
        let at = conversation.turn;
        const append = async (turn: ClinicalTurn) => {
          const { currentTurn } = await services.conversations.append(principal, conversation.id, {
            role: turn.role,
            content: turn.content,
            expectedTurn: at,
          });
          at = currentTurn;
        };
        return {
          async save(turn, reply) {
            await append(turn);
            await append(reply);
          },
          async load() {
            await loadState(services, principal, conversation.id, recentTurns);
            return Math.min(recentTurns, at);
          },
          async settle() {
            // `advance` runs after whatever is pending for the conversation, and finds nothing left to do.
            const record = await services.conversations.open(principal, conversation.id, 'context.read');
            await services.context.advance(record);
          },
        };
      },
      async close() {
        await app.close();
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Continuum on a SQLite file in a temp data dir (WAL, the default `synchronous = NORMAL`). */
export async function openContinuumSqlite(recentTurns: number): Promise<System> {
  const dir = mkdtempSync(path.join(tmpdir(), 'continuum-bench-compare-'));
  const store = createSqliteStore({ filename: path.join(dir, SQLITE_FILE), synchronous: 'normal' });
  return continuumSystem('continuum-sqlite', store, recentTurns, async () =>
    rmSync(dir, { recursive: true, force: true }),
  );
}

/** Continuum on PostgreSQL in a fresh schema, dropped on close. */
export async function openContinuumPostgres(url: string, recentTurns: number): Promise<System> {
  const schema = `bench_continuum_${Date.now().toString(36)}`;
  const store = createPostgresStore({ connectionString: url, schema, poolSize: 10 });
  return continuumSystem('continuum-postgres', store, recentTurns, () => dropSchema(url, schema));
}

/** Undefined when PostgreSQL at `url` answers, else why not. */
export async function postgresUnavailable(url: string): Promise<string | undefined> {
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

/** The server's version string, or "unavailable". */
export async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? 'unknown';
  } catch {
    return 'unavailable';
  } finally {
    await client.end().catch(() => undefined);
  }
}
