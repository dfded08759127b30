import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors/index.ts';
import { MIGRATIONS } from '../../src/store/adapters/postgres/migrations.ts';
import { createPostgresStore, type PostgresStoreOptions } from '../../src/store/adapters/postgres/postgres-store.ts';
import type { Store } from '../../src/store/port.ts';
import { POSTGRES_URL_VAR, postgresUrl, uniqueName } from '../helpers/services.ts';
import {
  appendRequest,
  conversationIn,
  freshConversationId,
  freshTenant,
  markerEvent,
  noAudit,
  T0,
  verifyAudit,
} from './fixtures.ts';

const url = postgresUrl();
const schemas: string[] = [];

function open(options: Partial<PostgresStoreOptions> & { schema: string }): Store {
  if (!schemas.includes(options.schema)) schemas.push(options.schema);
  return createPostgresStore({ connectionString: url!, poolSize: 4, ...options });
}

async function rawQuery<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Resolves with how the call failed (or `resolved`), and how long it took. */
async function failure(call: () => Promise<unknown>): Promise<{ code: string; ms: number }> {
  const started = performance.now();
  try {
    await call();
    return { code: 'resolved', ms: performance.now() - started };
  } catch (error) {
    return { code: isAppError(error) ? error.code : String(error), ms: performance.now() - started };
  }
}

/**
 * A TCP proxy in front of PostgreSQL that can fail on cue: refuse the next
 * connections, or pass the next COMMIT to the server and cut the client off
 * before the answer (the client cannot know whether it committed).
 */
async function startProxy(target: URL) {
  const state = { connections: 0, dropConnections: 0, commitsSeen: 0, cutAfterCommit: false };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    state.connections += 1;
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (state.dropConnections > 0) {
      state.dropConnections -= 1;
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.pipe(client);
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      if (chunk.includes('COMMIT\0')) {
        state.commitsSeen += 1;
        if (state.cutAfterCommit) {
          state.cutAfterCommit = false;
          upstream.unpipe(client);
          client.destroy();
          // Half-close after the COMMIT: the server still reads and runs it.
          upstream.end();
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const proxied = new URL(target);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(port);
  return {
    state,
    url: proxied.toString(),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.skipIf(url === undefined)(`PostgreSQL store specifics (needs ${POSTGRES_URL_VAR})`, () => {
  afterAll(async () => {
    for (const schema of schemas) await rawQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  describe('options', () => {
    it('are checked when the store is made, with a TypeError that says what to fix', () => {
      const base = { connectionString: 'postgres://localhost/x' };
      expect(() => createPostgresStore({ connectionString: 'mysql://x' })).toThrow(/connectionString/);
      expect(() => createPostgresStore({ ...base, schema: 'bad-name; DROP' })).toThrow(TypeError);
      expect(() => createPostgresStore({ ...base, poolSize: 0 })).toThrow(/poolSize/);
      expect(() => createPostgresStore({ ...base, connectTimeoutMs: 1.5 })).toThrow(/connectTimeoutMs/);
      expect(() => createPostgresStore({ ...base, statementTimeoutMs: -1 })).toThrow(/statementTimeoutMs/);
    });
  });

  describe('migrations', () => {
    it('create the schema, record each version, and do nothing the second time', async () => {
      const schema = uniqueName('t');
      const store = open({ schema });
      try {
        expect(await store.migrate()).toEqual({ from: 0, to: MIGRATIONS.length });
        expect(await store.migrate()).toEqual({ from: MIGRATIONS.length, to: MIGRATIONS.length });
        const rows = await rawQuery<{ version: number }>(
          `SELECT version FROM "${schema}".schema_migrations ORDER BY version`,
        );
        expect(rows.map((row) => row.version)).toEqual(MIGRATIONS.map((_, index) => index + 1));
      } finally {
        await store.close();
      }
    });

    it('run once when several processes migrate the same new schema at the same moment', async () => {
      const schema = uniqueName('t');
      const stores = [open({ schema }), open({ schema }), open({ schema })];
      try {
        const results = await Promise.all(stores.map((store) => store.migrate()));
        const applied = results.filter((result) => result.from === 0);
        expect(applied).toEqual([{ from: 0, to: MIGRATIONS.length }]);
        expect(results.filter((result) => result.from === MIGRATIONS.length)).toHaveLength(stores.length - 1);
        await stores[1]!.ping();
      } finally {
        await Promise.all(stores.map((store) => store.close()));
      }
    });
  });

  describe('an unreachable server', () => {
    it('fails fast with store_unavailable when nothing listens (connection refused)', async () => {
      const store = createPostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });
      try {
        const tenantId = freshTenant();
        for (const call of [
          () => store.ping(),
          () => store.migrate(),
          () => store.getConversation(tenantId, freshConversationId()),
          () => store.appendAudit(tenantId, [markerEvent('m')], new Date(T0)),
        ]) {
          const { code, ms } = await failure(call);
          expect(code).toBe('store_unavailable');
          expect(ms).toBeLessThan(2000);
        }
      } finally {
        await store.close();
      }
    });

    it('gives up after the connect timeout when the server accepts but never answers', async () => {
      const silent = net.createServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as net.AddressInfo;
      const store = createPostgresStore({
        connectionString: `postgres://postgres@127.0.0.1:${port}/test`,
        connectTimeoutMs: 300,
      });
      try {
        const { code, ms } = await failure(() => store.ping());
        expect(code).toBe('store_unavailable');
        // One wait, not one per attempt.
        expect(ms).toBeGreaterThanOrEqual(250);
        expect(ms).toBeLessThan(900);
      } finally {
        await store.close();
        silent.close();
      }
    });
  });

  describe('transient failures', () => {
    const schema = uniqueName('t');
    let proxy: Awaited<ReturnType<typeof startProxy>>;
    let direct: Store;
    let proxied: Store;

    beforeAll(async () => {
      direct = open({ schema });
      await direct.migrate();
      proxy = await startProxy(new URL(url!));
      proxied = open({ schema, connectionString: proxy.url });
    });
    afterAll(async () => {
      await proxied?.close();
      await direct?.close();
      await proxy?.close();
    });

    it('a refused or reset connection is retried, and the call succeeds', async () => {
      // A new client: no pooled connection to reuse.
      const fresh = open({ schema, connectionString: proxy.url });
      try {
        const before = proxy.state.connections;
        proxy.state.dropConnections = 2;
        await expect(fresh.ping()).resolves.toBeUndefined();
        expect(proxy.state.connections - before).toBe(3);
      } finally {
        await fresh.close();
      }
    });

    it('a transaction whose connection is terminated before COMMIT is retried on a new connection', async () => {
      const tenantId = freshTenant();
      const conversation = await conversationIn(direct, tenantId);
      const appName = uniqueName('victim');
      const victim = open({ schema, connectionString: withAppName(url!, appName) });
      const locker = new pg.Client({ connectionString: url });
      await locker.connect();
      try {
        // Hold the conversation's row lock so the append waits inside its transaction.
        await locker.query('BEGIN');
        await locker.query(`SELECT 1 FROM "${schema}".conversations WHERE id = $1 FOR UPDATE`, [conversation.id]);
        const pending = victim.appendTurn(tenantId, appendRequest(conversation.id, 0, 'hello'), noAudit());
        const [first] = await waitFor(() => backendsOf(appName, 'active'));
        await rawQuery('SELECT pg_terminate_backend($1)', [first]);
        // The retry waits on the same lock, from another connection.
        await waitFor(async () => (await backendsOf(appName, 'active')).filter((pid) => pid !== first));
        await locker.query('ROLLBACK');
        expect(await pending).toMatchObject({ kind: 'appended', turn: { number: 1 } });
        expect((await direct.getConversation(tenantId, conversation.id))?.turn).toBe(1);
      } finally {
        await locker.end();
        await victim.close();
      }
    });

    it('an append whose COMMIT answer was lost is retried, and meets its own committed turn', async () => {
      const tenantId = freshTenant();
      const conversation = await conversationIn(direct, tenantId);
      const idempotency = { key: 'k1', requestHash: 'h1', createdAt: new Date(T0).toISOString() };
      const commits = proxy.state.commitsSeen;
      proxy.state.cutAfterCommit = true;
      const outcome = await proxied.appendTurn(tenantId, appendRequest(conversation.id, 0, 'hi', { idempotency }), {
        at: new Date(T0),
        events: (result) => [markerEvent(`append-${result.kind}`)],
      });
      expect(proxy.state.commitsSeen - commits).toBe(2);
      expect(outcome).toMatchObject({ kind: 'replayed', turnNumber: 1 });
      expect((await direct.getConversation(tenantId, conversation.id))?.turn).toBe(1);
      // Both attempts are on the record, each in its own transaction.
      expect(await verifyAudit(direct, tenantId)).toEqual({ ok: true, checked: 2 });
    });

    it('an audit append whose COMMIT answer was lost is not repeated (it would chain twice)', async () => {
      const tenantId = freshTenant();
      const commits = proxy.state.commitsSeen;
      proxy.state.cutAfterCommit = true;
      const { code } = await failure(() => proxied.appendAudit(tenantId, [markerEvent('once')], new Date(T0)));
      expect(code).toBe('store_unavailable');
      expect(proxy.state.commitsSeen - commits).toBe(1);
      // The server runs the COMMIT it was sent, maybe a moment after the client gave up.
      const [head] = await waitFor(async () => [await direct.auditHead(tenantId)].filter((h) => h !== null));
      expect(head).toMatchObject({ seq: 1 });
    });
  });
});

function withAppName(connectionString: string, name: string): string {
  const parsed = new URL(connectionString);
  parsed.searchParams.set('application_name', name);
  return parsed.toString();
}

async function backendsOf(appName: string, state: string): Promise<number[]> {
  const rows = await rawQuery<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = $2',
    [appName, state],
  );
  return rows.map((row) => row.pid);
}

/** Poll until `probe` finds something (a non-empty list). */
async function waitFor<T>(probe: () => Promise<T[]>, timeoutMs = 5000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found.length > 0) return found;
    if (Date.now() > deadline) throw new Error('not found in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
