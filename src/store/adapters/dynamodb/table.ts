import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type TableDescription,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../../../errors/index.ts';
import { type DynamoContext, type DynamoStoreOptions, errorName, openContext, request, wrapError } from './client.ts';
import { GSI1, key } from './keys.ts';

/** The schema version this code writes; stored in the table's `META`/`SCHEMA` item. */
export const SCHEMA_VERSION = 1;

/** The table's definition: string `PK`/`SK`, the sparse `GSI1` (audit events by resource), on-demand billing. */
export function tableDefinition(table: string): CreateTableCommandInput {
  return {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'PK', AttributeType: 'S' },
      { AttributeName: 'SK', AttributeType: 'S' },
      { AttributeName: 'GSI1PK', AttributeType: 'S' },
      { AttributeName: 'GSI1SK', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: GSI1,
        KeySchema: [
          { AttributeName: 'GSI1PK', KeyType: 'HASH' },
          { AttributeName: 'GSI1SK', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/** The table's description, or null when it does not exist. */
export async function describeTable(ctx: DynamoContext, operation: string): Promise<TableDescription | null> {
  try {
    const out = await ctx.client.send(new DescribeTableCommand({ TableName: ctx.table }));
    return out.Table ?? null;
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return null;
    throw wrapError(operation, error);
  }
}

/** What is wrong with the table's keys and indexes, or null when they are what this code expects. */
export function schemaProblem(description: TableDescription): string | null {
  const keyOf = (schema: { AttributeName?: string; KeyType?: string }[] | undefined) =>
    (schema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
  const types = new Map((description.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]));
  if (keyOf(description.KeySchema) !== 'PK:HASH,SK:RANGE' || types.get('PK') !== 'S' || types.get('SK') !== 'S') {
    return 'its primary key is not PK (string, partition) + SK (string, sort)';
  }
  const gsi = description.GlobalSecondaryIndexes?.find((index) => index.IndexName === GSI1);
  if (gsi === undefined || keyOf(gsi.KeySchema) !== 'GSI1PK:HASH,GSI1SK:RANGE') {
    return `it lacks the index ${GSI1} on GSI1PK + GSI1SK`;
  }
  if (gsi.Projection?.ProjectionType !== 'ALL') return `its index ${GSI1} does not project all attributes`;
  return null;
}

/**
 * Check the table exists with the expected keys, then record the schema version.
 * Returns `{ from, to }` like the SQL migrations: `from` 0 on a table this code never used.
 */
export async function migrateTable(ctx: DynamoContext): Promise<{ from: number; to: number }> {
  const description = await describeTable(ctx, 'migrate');
  if (description === null) {
    throw new AppError(
      'store_unavailable',
      `DynamoDB table ${ctx.table} does not exist: create it with \`continuum dynamodb create-table\``,
    );
  }
  const problem = schemaProblem(description);
  if (problem !== null) {
    throw new AppError(
      'store_unavailable',
      `DynamoDB table ${ctx.table} is not a Continuum table: ${problem} (see docs/DYNAMODB.md)`,
    );
  }
  const stored = await request('migrate', () =>
    ctx.doc.send(new GetCommand({ TableName: ctx.table, Key: key.schema(), ConsistentRead: true })),
  );
  const from = typeof stored.Item?.version === 'number' ? stored.Item.version : 0;
  if (from > SCHEMA_VERSION) {
    throw new AppError(
      'store_unavailable',
      `DynamoDB table ${ctx.table} has schema version ${from}; this server knows only up to ${SCHEMA_VERSION}: upgrade it`,
    );
  }
  if (from < SCHEMA_VERSION) {
    await request('migrate', () =>
      ctx.doc.send(new PutCommand({ TableName: ctx.table, Item: { ...key.schema(), version: SCHEMA_VERSION } })),
    );
  }
  return { from, to: SCHEMA_VERSION };
}

/** Options of `createDynamoTable`: the store's connection options, and how long to wait for the table. */
export interface CreateDynamoTableOptions extends DynamoStoreOptions {
  /** Most seconds to wait for the table to become ACTIVE (default 300). */
  maxWaitSeconds?: number;
}

/**
 * Create the table with its index (on-demand billing) and wait until it is ACTIVE. A table that already
 * exists is left as it is (after checking its keys): running it twice is harmless.
 * Backs `continuum dynamodb create-table`.
 *
 * @example
 * const { created } = await createDynamoTable({ table: 'continuum', region: 'eu-west-1' });
 */
export async function createDynamoTable(options: CreateDynamoTableOptions): Promise<{ created: boolean }> {
  const maxWaitTime = options.maxWaitSeconds ?? 300;
  if (!Number.isInteger(maxWaitTime) || maxWaitTime < 1) {
    throw new TypeError('createDynamoTable: maxWaitSeconds must be a positive integer');
  }
  const ctx = openContext(options);
  try {
    let created = false;
    const existing = await describeTable(ctx, 'createTable');
    if (existing === null) {
      try {
        await ctx.client.send(new CreateTableCommand(tableDefinition(ctx.table)));
        created = true;
      } catch (error) {
        // Another process created it first: fine, as long as it ends up right.
        if (errorName(error) !== 'ResourceInUseException') throw wrapError('createTable', error);
      }
    }
    await request('createTable', () =>
      waitUntilTableExists({ client: ctx.client, minDelay: 1, maxDelay: 5, maxWaitTime }, { TableName: ctx.table }),
    );
    const description = await describeTable(ctx, 'createTable');
    const problem = description === null ? 'it vanished' : schemaProblem(description);
    if (problem !== null) {
      throw new AppError('store_unavailable', `DynamoDB table ${ctx.table} exists but ${problem}`);
    }
    return { created };
  } finally {
    ctx.client.destroy();
  }
}
