import {
  BatchGetCommand,
  BatchWriteCommand,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { storeUnavailable } from '../../errors.ts';
import { type DynamoContext, errorName, jitter, request, wrapError } from './client.ts';
import { Expression } from './expression.ts';
import type { ItemKey } from './keys.ts';

/** A stored item as the document client returns it. */
export type Item = Record<string, unknown>;

/** One action of a `TransactWriteItems` call, as the document client takes it. */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** DynamoDB's limit on the actions of one transaction. */
export const MAX_TRANSACTION_ITEMS = 100;

/** Read one item (strongly consistent unless told otherwise), fetching only `attrs`. */
export async function getItem(
  ctx: DynamoContext,
  operation: string,
  itemKey: ItemKey,
  attrs: readonly string[],
  consistent = true,
): Promise<Item | undefined> {
  const e = new Expression();
  const projection = e.projection(attrs);
  const out = await request(operation, () =>
    ctx.doc.send(
      new GetCommand({
        TableName: ctx.table,
        Key: itemKey,
        ConsistentRead: consistent,
        ProjectionExpression: projection,
        ...e.attributes(),
      }),
    ),
  );
  return out.Item;
}

/** A key condition on the sort key. */
export type SortCondition =
  | { op: '<' | '>' | '>=' | '<='; value: string }
  | { op: 'between'; low: string; high: string }
  | { op: 'begins_with'; value: string };

/** What `queryItems` reads. */
export interface QuerySpec {
  pk: string;
  sk?: SortCondition;
  attrs: readonly string[];
  /** Most items returned; all of the partition's matches when absent. */
  limit?: number;
  /** Descending sort-key order when false (default true). */
  forward?: boolean;
  /** Query the GSI1 index instead of the table (eventually consistent). */
  index?: { name: string; pkAttr: string; skAttr: string };
}

/** Query one partition, following pages until `limit` items (or all of them). */
export async function queryItems(ctx: DynamoContext, operation: string, spec: QuerySpec): Promise<Item[]> {
  const e = new Expression();
  const pkAttr = spec.index?.pkAttr ?? 'PK';
  const skAttr = spec.index?.skAttr ?? 'SK';
  let condition = `${e.name(pkAttr)} = ${e.value(spec.pk)}`;
  const sk = spec.sk;
  if (sk !== undefined) {
    const name = e.name(skAttr);
    if (sk.op === 'between') condition += ` AND ${name} BETWEEN ${e.value(sk.low)} AND ${e.value(sk.high)}`;
    else if (sk.op === 'begins_with') condition += ` AND begins_with(${name}, ${e.value(sk.value)})`;
    else condition += ` AND ${name} ${sk.op} ${e.value(sk.value)}`;
  }
  const projection = e.projection(spec.attrs);
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const remaining = spec.limit === undefined ? undefined : spec.limit - items.length;
    const input: QueryCommandInput = {
      TableName: ctx.table,
      KeyConditionExpression: condition,
      ProjectionExpression: projection,
      ScanIndexForward: spec.forward ?? true,
      ...e.attributes(),
      ...(spec.index === undefined ? { ConsistentRead: true } : { IndexName: spec.index.name }),
      ...(remaining === undefined ? {} : { Limit: remaining }),
      ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
    };
    const out = await request(operation, () => ctx.doc.send(new QueryCommand(input)));
    items.push(...(out.Items ?? []));
    startKey = out.LastEvaluatedKey;
  } while (startKey !== undefined && (spec.limit === undefined || items.length < spec.limit));
  return items;
}

const BATCH_GET = 100;
const BATCH_WRITE = 25;
const BATCH_ROUNDS = 8;

/** Read many items by key (strongly consistent); missing ones are absent from the result. */
export async function batchGetItems(
  ctx: DynamoContext,
  operation: string,
  keys: readonly ItemKey[],
  attrs: readonly string[],
): Promise<Item[]> {
  const found: Item[] = [];
  const e = new Expression();
  // The key attributes come back too, so callers can match items to keys.
  const projection = e.projection([...new Set(['PK', 'SK', ...attrs])]);
  for (let start = 0; start < keys.length; start += BATCH_GET) {
    let pending: Record<string, unknown>[] = keys.slice(start, start + BATCH_GET).map((k) => ({ ...k }));
    for (let round = 0; pending.length > 0; round++) {
      if (round === BATCH_ROUNDS) throw storeUnavailable(operation, new Error('BatchGetItem left keys unprocessed'));
      if (round > 0) await jitter(10 * 2 ** round);
      const out = await request(operation, () =>
        ctx.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [ctx.table]: { Keys: pending, ConsistentRead: true, ProjectionExpression: projection, ...e.attributes() },
            },
          }),
        ),
      );
      found.push(...(out.Responses?.[ctx.table] ?? []));
      pending = out.UnprocessedKeys?.[ctx.table]?.Keys ?? [];
    }
  }
  return found;
}

/** Write many requests (puts or deletes) in batches of 25, retrying what DynamoDB leaves unprocessed. */
export async function batchWriteItems(
  ctx: DynamoContext,
  operation: string,
  writes: readonly ({ PutRequest: { Item: Item } } | { DeleteRequest: { Key: ItemKey } })[],
): Promise<void> {
  for (let start = 0; start < writes.length; start += BATCH_WRITE) {
    let pending = writes.slice(start, start + BATCH_WRITE) as NonNullable<
      ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']
    >[string];
    for (let round = 0; pending.length > 0; round++) {
      if (round === BATCH_ROUNDS) throw storeUnavailable(operation, new Error('BatchWriteItem left items unprocessed'));
      if (round > 0) await jitter(10 * 2 ** round);
      const out = await request(operation, () =>
        ctx.doc.send(new BatchWriteCommand({ RequestItems: { [ctx.table]: pending } })),
      );
      pending = out.UnprocessedItems?.[ctx.table] ?? [];
    }
  }
}

/** How a transaction ended. */
export type TransactResult =
  | { ok: true }
  /** `failed`: indexes of the actions whose condition failed; `contended`: lost to a concurrent transaction or throttled. */
  | { ok: false; failed: number[]; contended: boolean };

const CONTENDED = new Set(['TransactionConflict', 'ProvisionedThroughputExceeded', 'ThrottlingError']);

/** Run one `TransactWriteItems`; a cancellation is an answer, any other failure is wrapped. */
export async function transactWrite(
  ctx: DynamoContext,
  operation: string,
  items: TransactItem[],
): Promise<TransactResult> {
  if (items.length > MAX_TRANSACTION_ITEMS) {
    throw new TypeError(
      `${operation}: ${items.length} writes exceed DynamoDB's ${MAX_TRANSACTION_ITEMS} per transaction`,
    );
  }
  try {
    await ctx.doc.send(new TransactWriteCommand({ TransactItems: items }));
    return { ok: true };
  } catch (error) {
    if (errorName(error) !== 'TransactionCanceledException') throw wrapError(operation, error);
    const codes = ((error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map(
      (reason) => reason.Code ?? 'None',
    );
    const failed = codes.flatMap((code, index) => (code === 'ConditionalCheckFailed' ? [index] : []));
    const contended = codes.some((code) => CONTENDED.has(code));
    if (failed.length === 0 && !contended) throw wrapError(operation, error);
    return { ok: false, failed, contended };
  }
}

/** A put of a whole item, as a transaction action; `condition` guards it. */
export function putAction(table: string, item: Item, condition?: (e: Expression) => string): TransactItem {
  const e = new Expression();
  const expression = condition?.(e);
  return {
    Put: {
      TableName: table,
      Item: item,
      ...(expression === undefined ? {} : { ConditionExpression: expression }),
      ...e.attributes(),
    },
  };
}

/** An update of one item, as a transaction action: `build` returns its update and condition expressions. */
export function updateAction(
  table: string,
  itemKey: ItemKey,
  build: (e: Expression) => { update: string; condition: string },
): TransactItem {
  const e = new Expression();
  const { update, condition } = build(e);
  return {
    Update: {
      TableName: table,
      Key: { ...itemKey },
      UpdateExpression: update,
      ConditionExpression: condition,
      ...e.attributes(),
    },
  };
}

/** A delete of one item, as a transaction action; `condition` guards it. */
export function deleteAction(table: string, itemKey: ItemKey, condition?: (e: Expression) => string): TransactItem {
  const e = new Expression();
  const expression = condition?.(e);
  return {
    Delete: {
      TableName: table,
      Key: { ...itemKey },
      ...(expression === undefined ? {} : { ConditionExpression: expression }),
      ...e.attributes(),
    },
  };
}

/** A condition on an item the transaction does not write. */
export function checkAction(table: string, itemKey: ItemKey, condition: (e: Expression) => string): TransactItem {
  const e = new Expression();
  const expression = condition(e);
  return {
    ConditionCheck: { TableName: table, Key: { ...itemKey }, ConditionExpression: expression, ...e.attributes() },
  };
}

/** Condition: the item does not exist yet. */
export const absent = (e: Expression): string => `attribute_not_exists(${e.name('PK')})`;

/** Condition: the item exists. */
export const present = (e: Expression): string => `attribute_exists(${e.name('PK')})`;
