import net from 'node:net';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors/index.ts';
import { AuditChains, sealAll } from '../../src/store/adapters/dynamodb/audit-chain.ts';
import { openContext } from '../../src/store/adapters/dynamodb/client.ts';
import {
  createDynamoStore,
  createDynamoTable,
  type DynamoStoreOptions,
} from '../../src/store/adapters/dynamodb/dynamo-store.ts';
import { key } from '../../src/store/adapters/dynamodb/keys.ts';
import { turnItem } from '../../src/store/adapters/dynamodb/mapping.ts';
import { absent, putAction, transactWrite, updateAction } from '../../src/store/adapters/dynamodb/requests.ts';
import type { Store } from '../../src/store/port.ts';
import { uniqueName } from '../helpers/services.ts';
import { type LocalDynamo, startLocalDynamo } from './dynamodb-local.ts';
import { allTurns, conversationIn, freshTenant, markerEvent, plainTurn, T0, verifyAudit } from './fixtures.ts';

/** Resolves with how the call failed (or `resolved`), and how long it took. */
async function failure(call: () => Promise<unknown>): Promise<{ code: string; message: string; ms: number }> {
  const started = performance.now();
  try {
    await call();
    return { code: 'resolved', message: '', ms: performance.now() - started };
  } catch (error) {
    const code = isAppError(error) ? error.code : error instanceof TypeError ? 'TypeError' : String(error);
    return { code, message: (error as Error).message, ms: performance.now() - started };
  }
}

describe('DynamoDB store specifics (dynalite)', () => {
  let local: LocalDynamo;
  let options: DynamoStoreOptions;
  const stores: Store[] = [];
  const open = async (): Promise<Store> => {
    const store = createDynamoStore(options);
    stores.push(store);
    await store.migrate();
    return store;
  };

  beforeAll(async () => {
    local = await startLocalDynamo();
    options = { table: uniqueName('continuum'), endpoint: local.endpoint, credentials: local.credentials };
    await createDynamoTable(options);
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await local.close();
  });

  it('create-table creates the table with its index once, and is a no-op the second time', async () => {
    const table = uniqueName('created');
    const first = await createDynamoTable({ ...options, table });
    const second = await createDynamoTable({ ...options, table });
    expect([first, second]).toEqual([{ created: true }, { created: false }]);
    const client = new DynamoDBClient({
      endpoint: local.endpoint,
      region: 'us-east-1',
      credentials: local.credentials,
    });
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    client.destroy();
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema?.map((k) => k.AttributeName)).toEqual(['PK', 'SK']);
    expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['GSI1']);
    expect(Table?.BillingModeSummary?.BillingMode ?? 'PAY_PER_REQUEST').toBe('PAY_PER_REQUEST');
  });

  it('migrate reports version 0 then 1, and on a missing table names the command that creates it', async () => {
    const table = uniqueName('fresh');
    await createDynamoTable({ ...options, table });
    const fresh = createDynamoStore({ ...options, table });
    stores.push(fresh);
    expect(await fresh.migrate()).toEqual({ from: 0, to: 1 });
    expect(await fresh.migrate()).toEqual({ from: 1, to: 1 });

    const missing = createDynamoStore({ ...options, table: uniqueName('missing') });
    stores.push(missing);
    const failed = await failure(() => missing.migrate());
    expect(failed.code).toBe('store_unavailable');
    expect(failed.message).toContain('continuum dynamodb create-table');
  });

  it('checks its options eagerly, with TypeError', () => {
    expect(() => createDynamoStore({ table: '' })).toThrow(TypeError);
    expect(() => createDynamoStore({ table: 'ok-name', endpoint: 'not a url' })).toThrow(/endpoint/);
    expect(() => createDynamoStore({ table: 'ok-name', maxSockets: 0 })).toThrow(/maxSockets/);
    expect(() =>
      createDynamoStore({ table: 'ok-name', credentials: { accessKeyId: '', secretAccessKey: 'x' } }),
    ).toThrow(/credentials/);
  });

  it('of two clients racing conditional turn puts for the same number, exactly one commits', async () => {
    const store = await open();
    const tenantId = freshTenant();
    const conversation = await conversationIn(store, tenantId);
    // The transaction an append commits, built by each client with its own turn 1, sent at the same time.
    const clients = [openContext(options), openContext(options)];
    const results = await Promise.all(
      clients.map((ctx, i) => {
        const turn = plainTurn(conversation.id, 1, conversation.genesisHash, `racer ${i}`);
        return transactWrite(ctx, 'test', [
          putAction(ctx.table, turnItem(tenantId, turn), absent),
          updateAction(ctx.table, key.conversation(tenantId, conversation.id), (e) => ({
            update: `SET ${e.name('turn')} = ${e.value(1)}, ${e.name('headHash')} = ${e.value(turn.hash)}`,
            condition: `${e.name('turn')} = ${e.value(0)}`,
          })),
        ]);
      }),
    );
    for (const ctx of clients) ctx.client.destroy();
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const loser = results.find((r) => !r.ok);
    expect(loser).toMatchObject({ ok: false });
    const turns = await allTurns(store, tenantId, conversation.id);
    expect(turns).toHaveLength(1);
    expect((await store.getConversation(tenantId, conversation.id))?.headHash).toBe(turns[0]?.hash);
  });

  it('a writer whose lease on the audit chain lapsed and was taken cannot commit over the new holder', async () => {
    const store = await open();
    const tenantId = freshTenant();
    await store.appendAudit(tenantId, [markerEvent('first')], new Date(T0));
    const ctx = openContext(options);
    const chains = new AuditChains(ctx);
    const result = await chains.exclusive('test', tenantId, async (session) => {
      const head = await session.head();
      // Another node takes the chain over, as it may once a lease has run out.
      await ctx.doc.send(
        new UpdateCommand({
          TableName: ctx.table,
          Key: key.auditHead(tenantId),
          UpdateExpression: 'SET lockedBy = :other, lockedUntil = :until',
          ExpressionAttributeValues: { ':other': 'another-node', ':until': Date.now() + 60_000 },
        }),
      );
      return session.commit([], sealAll(head, tenantId, [markerEvent('stale')], new Date(T0)));
    });
    ctx.client.destroy();
    expect(result.ok).toBe(false);
    expect(await store.auditHead(tenantId)).toMatchObject({ seq: 1 });
    expect(await verifyAudit(store, tenantId)).toMatchObject({ ok: true, checked: 1 });
  });

  it('an unreachable endpoint fails with store_unavailable, promptly', async () => {
    const refused = createDynamoStore({ ...options, endpoint: 'http://127.0.0.1:1' });
    stores.push(refused);
    const outcome = await failure(() => refused.getConversation(freshTenant(), 'cnv_x' as never));
    expect(outcome.code).toBe('store_unavailable');
    expect(outcome.ms).toBeLessThan(10_000);
  });

  it('a server that accepts but never answers fails with store_unavailable after the request timeout', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const store = createDynamoStore({ ...options, endpoint: `http://127.0.0.1:${port}`, requestTimeoutMs: 200 });
    stores.push(store);
    try {
      const outcome = await failure(() => store.ping());
      expect(outcome.code).toBe('store_unavailable');
      expect(outcome.ms).toBeLessThan(10_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
