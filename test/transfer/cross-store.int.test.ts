import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/verify.ts';
import { asConversationId } from '../../src/core/types.ts';
import { createDynamoStore, createDynamoTable } from '../../src/store/adapters/dynamodb/dynamo-store.ts';
import { createPostgresStore } from '../../src/store/adapters/postgres/postgres-store.ts';
import type { Store } from '../../src/store/port.ts';
import { exportTenants } from '../../src/transfer/export.ts';
import { importStream } from '../../src/transfer/import.ts';
import { POSTGRES_URL_VAR, postgresUrl, uniqueName } from '../helpers/services.ts';
import { type LocalDynamo, startLocalDynamo } from '../store/dynamodb-local.ts';
import { buildSource, emptyTarget, keyProviderOf, linesOf, type Source } from './fixtures.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

async function exportAll(store: Store, tenantIds: Source['tenantId'][]): Promise<string[]> {
  const lines: string[] = [];
  await exportTenants(store, { tenantIds, write: (line) => void lines.push(line) });
  return lines;
}

/** The target holds what the source held: tenant, keys, conversations, turns, participants, state, events, audit chain. */
async function expectSameTenant(source: Source, from: Store, to: Store, exportedEvents: number): Promise<void> {
  const tenantId = source.tenantId;
  expect(await to.getTenant(tenantId)).toEqual(await from.getTenant(tenantId));
  expect(await to.listApiKeys(tenantId)).toEqual(await from.listApiKeys(tenantId));
  expect(await to.listDataKeys(tenantId)).toEqual(await from.listDataKeys(tenantId));
  for (const made of source.conversations) {
    const id = asConversationId(made.id);
    expect(await to.getConversation(tenantId, id)).toEqual(await from.getConversation(tenantId, id));
    expect(await to.listTurns(tenantId, id, 0, 100)).toEqual(await from.listTurns(tenantId, id, 0, 100));
    expect(await to.getContextState(tenantId, id)).toEqual(await from.getContextState(tenantId, id));
    expect(await to.listStreamEvents(tenantId, id, null, 100)).toEqual(
      await from.listStreamEvents(tenantId, id, null, 100),
    );
    expect(await to.listParticipants(tenantId, id)).toEqual(await from.listParticipants(tenantId, id));
  }
  const first = asConversationId(source.conversations[0]!.id);
  expect((await to.listParticipants(tenantId, first)).map((p) => p.subject)).toEqual(['clinician-3', 'carer-ana']);
  const events = await to.listAuditEvents(tenantId, { afterSeq: 0, limit: 10_000 });
  expect(events.slice(0, exportedEvents)).toEqual(
    (await from.listAuditEvents(tenantId, { afterSeq: 0, limit: 10_000 })).slice(0, exportedEvents),
  );
  expect(events.at(-1)?.action).toBe('import.create');
  expect(await verifyChain(events, [], () => undefined, { tenantId })).toMatchObject({ ok: true });
}

/** SQLite → `open()` → SQLite again: the upgrade path and back. */
function describeCrossStore(name: string, open: () => Promise<{ store: Store; drop(): Promise<void> }>) {
  describe(`export from SQLite, import into ${name}, and back`, () => {
    let source: Source;
    let lines: string[];
    let exportedEvents: number;

    beforeAll(async () => {
      source = await buildSource();
      lines = await exportAll(source.t.services.store, [source.tenantId]);
      exportedEvents = lines.filter((line) => line.startsWith('{"type":"audit_event"')).length;
    });
    afterAll(async () => source?.t.close());

    it(`carries a tenant into ${name} unchanged, refuses it twice, and exports it back to SQLite`, async () => {
      const target = await open();
      try {
        const keyProvider = await keyProviderOf(source.t.dataDir);
        const result = await importStream(target.store, linesOf(lines), { keyProvider });
        expect(result.tenants).toEqual([source.tenantId]);
        await expectSameTenant(source, source.t.services.store, target.store, exportedEvents);
        await expect(importStream(target.store, linesOf(lines), { keyProvider })).rejects.toMatchObject({
          code: 'tenant_exists',
        });

        const back = await exportAll(target.store, [source.tenantId]);
        const sqlite = await emptyTarget(source.t.dataDir);
        try {
          await importStream(sqlite.store, linesOf(back), { keyProvider: await keyProviderOf(sqlite.dir) });
          await expectSameTenant(source, target.store, sqlite.store, exportedEvents + 1);
        } finally {
          await sqlite.store.close();
          sqlite.remove();
        }
      } finally {
        await target.store.close();
        await target.drop();
      }
    });
  });
}

const url = postgresUrl();
if (url === undefined) {
  describe('export from SQLite, import into PostgreSQL', () => {
    it.skip(`needs PostgreSQL: set ${POSTGRES_URL_VAR}`, () => {});
  });
} else {
  describeCrossStore('PostgreSQL', async () => {
    const schema = uniqueName('transfer');
    const store = createPostgresStore({ connectionString: url, schema, poolSize: 4 });
    await store.migrate();
    return {
      store,
      async drop() {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await client.end();
        }
      },
    };
  });
}

let local: LocalDynamo | null = null;
describeCrossStore('DynamoDB (dynalite)', async () => {
  local ??= await startLocalDynamo();
  const table = uniqueName('transfer');
  const options = { table, endpoint: local.endpoint, credentials: local.credentials };
  await createDynamoTable(options);
  const store = createDynamoStore(options);
  await store.migrate();
  return {
    store,
    async drop() {
      await local?.close();
      local = null;
    },
  };
});
