import path from 'node:path';
import { type Config, configWith } from '../../src/config/index.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { createLocalKeyProvider } from '../../src/crypto/local-key-provider.ts';
import { buildApp, type ContinuumApp } from '../../src/server/app.ts';
import { MASTER_KEY_FILE, SQLITE_FILE } from '../../src/server/runtime.ts';
import { createSqliteStore } from '../../src/store/adapters/sqlite/sqlite-store.ts';
import { createMemoryEventBus } from '../../src/sync/event-bus.ts';
import { ADMIN_TOKEN, tempDataDir } from '../helpers/test-app.ts';

export interface Node extends ContinuumApp {
  base: string;
  close(): Promise<void>;
}

/**
 * Two apps in this process on one SQLite file: two nodes as far as sync is
 * concerned (each its own event log cursor, hub and sockets), on one shared
 * in-process bus — or, with `redisUrl` in `config`, each on its own Redis
 * connections. `cluster.int.test.ts` runs real processes on PostgreSQL.
 */
export async function twoNodes(
  config: Partial<Record<keyof Config, unknown>> = {},
): Promise<{ nodes: [Node, Node]; remove(): void }> {
  const dir = tempDataDir();
  const bus = config['redisUrl'] === undefined ? createMemoryEventBus() : undefined;
  const clock = new FakeClock(Date.UTC(2026, 10, 25, 8, 0, 0));
  const settings = configWith({
    dataDir: dir.dir,
    rateLimitPerTenant: 0,
    rateLimitPerSubject: 0,
    logLevel: 'silent',
    ...config,
  });
  const start = async (): Promise<Node> => {
    const store = createSqliteStore({ filename: path.join(dir.dir, SQLITE_FILE) });
    await store.migrate();
    const keyProvider = await createLocalKeyProvider({ keyFile: path.join(dir.dir, MASTER_KEY_FILE) });
    const built = await buildApp(settings, {
      store,
      keyProvider,
      adminToken: ADMIN_TOKEN,
      clock,
      logger: false,
      ...(bus === undefined ? {} : { bus }),
    });
    const base = await built.app.listen({ host: '127.0.0.1', port: 0 });
    return {
      ...built,
      base,
      async close() {
        await built.app.close();
        await store.close();
      },
    };
  };
  const a = await start();
  const b = await start();
  return { nodes: [a, b], remove: dir.remove };
}

/** One JSON request over the network. */
export async function call(base: string, method: string, route: string, token?: string, body?: unknown) {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
