import pg from 'pg';
import { describe, it } from 'vitest';
import { createPostgresStore } from '../../src/store/adapters/postgres/postgres-store.ts';
import { POSTGRES_URL_VAR, postgresUrl, uniqueName } from '../helpers/services.ts';
import { describeStore } from './conformance.ts';

const url = postgresUrl();
const schema = uniqueName('t');

/** A raw client of the test database, outside the adapter. */
async function withClient<T>(connectionString: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

if (url === undefined) {
  describe('Store conformance: postgres', () => {
    it.skip(`needs PostgreSQL: set ${POSTGRES_URL_VAR}`, () => {});
  });
} else {
  describeStore('postgres', {
    async open() {
      const store = createPostgresStore({ connectionString: url, schema, poolSize: 10 });
      await store.migrate();
      return store;
    },
    async destroy() {
      await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    },
    async tamperAudit(tenantId, seq) {
      await withClient(url, async (client) => {
        await client.query(`UPDATE "${schema}".audit_events SET outcome = 'denied' WHERE tenant_id = $1 AND seq = $2`, [
          tenantId,
          seq,
        ]);
        await client.query(`DELETE FROM "${schema}".audit_events WHERE tenant_id = $1 AND seq = $2`, [tenantId, seq]);
      });
    },
  });
}
