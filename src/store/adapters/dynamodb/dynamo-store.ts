import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Store } from '../../port.ts';
import { auditMethods } from './audit.ts';
import { AuditChains } from './audit-chain.ts';
import { type DynamoStoreOptions, openContext, request } from './client.ts';
import { contextMethods } from './context.ts';
import { conversationMethods } from './conversations.ts';
import { credentialMethods } from './credentials.ts';
import { key } from './keys.ts';
import { participantMethods } from './participants.ts';
import { refreshTokenMethods } from './refresh-tokens.ts';
import { streamMethods } from './streams.ts';
import { migrateTable } from './table.ts';
import { transferMethods } from './transfer.ts';

export type { DynamoStoreOptions } from './client.ts';
export { type CreateDynamoTableOptions, createDynamoTable } from './table.ts';

/**
 * The DynamoDB store: one table (single-table design, docs/DYNAMODB.md), every
 * mutating call one conditional transaction with its audit events. Any number
 * of nodes may share the table.
 *
 * @example
 * await createDynamoTable({ table: 'continuum', region: 'eu-west-1' }); // once: `continuum dynamodb create-table`
 * const store = createDynamoStore({ table: 'continuum', region: 'eu-west-1' });
 * await store.migrate();
 */
export function createDynamoStore(options: DynamoStoreOptions): Store {
  const ctx = openContext(options);
  const chains = new AuditChains(ctx);
  return {
    kind: 'dynamodb',
    migrate: () => migrateTable(ctx),
    async ping() {
      // A write round trip: a table that answers reads but refuses writes (throttled, denied) is not ready.
      await request('ping', () =>
        ctx.doc.send(
          new PutCommand({ TableName: ctx.table, Item: { ...key.readinessProbe(), at: new Date().toISOString() } }),
        ),
      );
    },
    async close() {
      ctx.client.destroy();
    },
    ...credentialMethods(ctx, chains),
    ...refreshTokenMethods(ctx, chains),
    ...conversationMethods(ctx, chains),
    ...auditMethods(ctx, chains),
    ...contextMethods(ctx, chains),
    ...streamMethods(ctx),
    ...participantMethods(ctx, chains),
    ...transferMethods(ctx, chains),
  } satisfies Store;
}
