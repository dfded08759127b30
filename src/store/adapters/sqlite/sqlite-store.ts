import type { Store } from '../../port.ts';
import { auditMethods } from './audit.ts';
import { openConnection, type SqliteStoreOptions } from './connection.ts';
import { contextMethods } from './context.ts';
import { conversationMethods } from './conversations.ts';
import { credentialMethods } from './credentials.ts';
import { participantMethods } from './participants.ts';
import { streamMethods } from './streams.ts';
import { transferMethods } from './transfer.ts';

export type { SqliteStoreOptions } from './connection.ts';

/**
 * The embedded default store. One connection per process; several processes
 * may share the file (WAL, `BEGIN IMMEDIATE`, busy timeout).
 *
 * @example
 * const store = createSqliteStore({ filename: './data/continuum.db' });
 * await store.migrate();
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  if (typeof options.filename !== 'string' || options.filename === '') {
    throw new TypeError('createSqliteStore: filename is required');
  }
  const conn = openConnection(options);
  return {
    kind: 'sqlite',
    async migrate() {
      return conn.migrate();
    },
    async ping() {
      await conn.ping();
    },
    async close() {
      await conn.close();
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
