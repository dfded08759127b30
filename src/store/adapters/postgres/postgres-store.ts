import type { Store } from '../../port.ts';
import { auditMethods } from './audit.ts';
import { contextMethods } from './context.ts';
import { conversationMethods } from './conversations.ts';
import { credentialMethods } from './credentials.ts';
import { migrate } from './migrations.ts';
import { participantMethods } from './participants.ts';
import { openPool, type PostgresStoreOptions, resolveOptions } from './pool.ts';
import { streamMethods } from './streams.ts';
import { transferMethods } from './transfer.ts';

export type { PostgresStoreOptions } from './pool.ts';

/**
 * The store for several nodes: PostgreSQL is the source of truth every node
 * shares. Turn order rests on a row lock and the (conversation, turn) primary
 * key, the audit chain on a per-tenant head row locked by each append, so
 * racing nodes never fork either. Transient failures (lost connections,
 * serialization failures, deadlocks, a restarting server) are retried a few
 * times with backoff; what still fails is `store_unavailable`. Options are
 * checked at once; no connection is made before the first call.
 *
 * @example
 * const store = createPostgresStore({ connectionString: 'postgres://continuum@db:5432/continuum', schema: 'continuum' });
 * await store.migrate();
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const conn = openPool(resolveOptions(options));
  return {
    kind: 'postgres',
    migrate() {
      return migrate(conn);
    },
    async ping() {
      // A write round trip: a server that answers reads but refuses writes (a replica after failover) is not ready.
      await conn.run(
        'ping',
        "INSERT INTO meta (key, value) VALUES ('readiness-probe', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        [new Date().toISOString()],
        { idempotent: true },
      );
    },
    close() {
      return conn.close();
    },
    ...credentialMethods(conn),
    ...conversationMethods(conn),
    ...auditMethods(conn),
    ...contextMethods(conn),
    ...streamMethods(conn),
    ...participantMethods(conn),
    ...transferMethods(conn),
  } satisfies Store;
}
