/**
 * A local DynamoDB for tests: dynalite (a real implementation of the DynamoDB
 * API over an in-memory LevelDB) in-process on 127.0.0.1, behind a small front
 * that adds the one operation dynalite lacks, `TransactWriteItems`.
 *
 * The front passes every other request through untouched, one request at a
 * time, and runs a transaction as DynamoDB specifies it: every condition is
 * checked first (by dynalite's own condition evaluator), and only if all hold
 * are the writes applied; otherwise nothing is written and the answer is a
 * `TransactionCanceledException` with one reason per action. Because the front
 * serializes requests, no other request sees a transaction half-applied.
 */
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;
type Dynalite = (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

const dynalite = createRequire(import.meta.url)('dynalite') as Dynalite;

/** A running local DynamoDB. */
export interface LocalDynamo {
  /** The endpoint to give the AWS SDK. */
  endpoint: string;
  /** Static credentials it accepts (any are). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  close(): Promise<void>;
}

const TARGET_PREFIX = 'DynamoDB_20120810.';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function readBody(message: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    message.on('data', (chunk: Buffer) => chunks.push(chunk));
    message.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    message.on('error', reject);
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

/** Start dynalite and its transaction front; `close()` stops both. */
export async function startLocalDynamo(): Promise<LocalDynamo> {
  const backend = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const backendPort = await listen(backend);

  const forward = (headers: Record<string, string>, body: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: backendPort, method: 'POST', path: '/', headers, agent: false },
        (res) => {
          readBody(res).then((text) => {
            const out: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers)) {
              if (typeof value === 'string' && name !== 'connection' && name !== 'transfer-encoding') out[name] = value;
            }
            resolve({ status: res.statusCode ?? 500, headers: out, body: text });
          }, reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const call = async (operation: string, input: Json): Promise<{ status: number; json: Json }> => {
    const answer = await forward(
      {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `${TARGET_PREFIX}${operation}`,
        'x-amz-date': '20260101T000000Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      JSON.stringify(input),
    );
    return { status: answer.status, json: answer.body === '' ? {} : (JSON.parse(answer.body) as Json) };
  };

  const keyNames = new Map<string, string[]>();
  const keyOf = async (table: string, item: Json): Promise<Json> => {
    let names = keyNames.get(table);
    if (names === undefined) {
      const { json } = await call('DescribeTable', { TableName: table });
      const schema = ((json.Table as Json | undefined)?.KeySchema ?? []) as { AttributeName: string }[];
      names = schema.map((k) => k.AttributeName);
      keyNames.set(table, names);
    }
    return Object.fromEntries(names.map((name) => [name, item[name]]));
  };

  const transact = (body: Json): Promise<Answer> => runTransaction(body, call, keyOf);

  // One request at a time: a transaction's steps never interleave with anything else.
  let queue: Promise<unknown> = Promise.resolve();
  const front = createServer((req, res) => {
    const work = queue.then(async () => {
      const body = await readBody(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      let answer: Answer;
      if (target === `${TARGET_PREFIX}TransactWriteItems`) {
        answer = await transact(JSON.parse(body) as Json);
      } else {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers[name] = value;
        }
        answer = await forward(headers, body);
      }
      res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
      res.end(answer.body);
    });
    queue = work.catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(
        JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(error) }),
      );
    });
  });
  const frontPort = await listen(front);

  return {
    endpoint: `http://127.0.0.1:${frontPort}`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    async close() {
      await close(front);
      await close(backend);
    },
  };
}

type Call = (operation: string, input: Json) => Promise<{ status: number; json: Json }>;

const ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';

function errorAnswer(type: string, fields: Json): Answer {
  return {
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify({ __type: `${ERROR_PREFIX}${type}`, ...fields }),
  };
}

/** The names and values of `expression` only (DynamoDB refuses unused ones). */
function usedBy(expression: string, spec: Json): Json {
  const pick = (map: unknown, pattern: RegExp): Json | undefined => {
    if (map === undefined) return undefined;
    const used = new Set(expression.match(pattern) ?? []);
    const out = Object.fromEntries(Object.entries(map as Json).filter(([placeholder]) => used.has(placeholder)));
    return Object.keys(out).length > 0 ? out : undefined;
  };
  const names = pick(spec.ExpressionAttributeNames, /#[A-Za-z0-9_]+/g);
  const values = pick(spec.ExpressionAttributeValues, /:[A-Za-z0-9_]+/g);
  return {
    ...(names === undefined ? {} : { ExpressionAttributeNames: names }),
    ...(values === undefined ? {} : { ExpressionAttributeValues: values }),
  };
}

async function runTransaction(
  body: Json,
  call: Call,
  keyOf: (table: string, item: Json) => Promise<Json>,
): Promise<Answer> {
  const actions = (body.TransactItems ?? []) as Json[];
  if (actions.length === 0 || actions.length > 100) {
    return errorAnswer('ValidationException', { message: 'TransactItems must hold 1 to 100 actions' });
  }
  const steps: { kind: string; spec: Json; table: string; key: Json }[] = [];
  const seen = new Set<string>();
  for (const action of actions) {
    const [kind, spec] = Object.entries(action)[0] as [string, Json];
    const table = spec.TableName as string;
    const key = kind === 'Put' ? await keyOf(table, spec.Item as Json) : (spec.Key as Json);
    const id = JSON.stringify([table, key]);
    if (seen.has(id)) {
      return errorAnswer('ValidationException', {
        message: 'Transaction request cannot include multiple operations on one item',
      });
    }
    seen.add(id);
    steps.push({ kind, spec, table, key });
  }

  // Phase 1: snapshot every item and check every condition, changing nothing for good.
  const before: (Json | undefined)[] = [];
  const reasons: Json[] = [];
  for (const { spec, table, key } of steps) {
    const got = await call('GetItem', { TableName: table, Key: key, ConsistentRead: true });
    if (got.status !== 200) return errorAnswer('ValidationException', { message: JSON.stringify(got.json) });
    const item = got.json.Item as Json | undefined;
    before.push(item);
    const condition = spec.ConditionExpression as string | undefined;
    if (condition === undefined) {
      reasons.push({ Code: 'None' });
      continue;
    }
    // A conditional delete evaluates the condition exactly as DynamoDB would; the item is put back at once.
    const checked = await call('DeleteItem', {
      TableName: table,
      Key: key,
      ConditionExpression: condition,
      ...usedBy(condition, spec),
    });
    if (checked.status === 200) {
      if (item !== undefined) await call('PutItem', { TableName: table, Item: item });
      reasons.push({ Code: 'None' });
    } else if (String(checked.json.__type).endsWith('ConditionalCheckFailedException')) {
      reasons.push({ Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' });
    } else {
      return {
        status: checked.status,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: JSON.stringify(checked.json),
      };
    }
  }
  if (reasons.some((reason) => reason.Code !== 'None')) {
    return errorAnswer('TransactionCanceledException', {
      Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
      CancellationReasons: reasons,
    });
  }

  // Phase 2: apply every write; if one fails, put every item back as it was.
  for (const { kind, spec, table, key } of steps) {
    let done: { status: number; json: Json } | null = null;
    if (kind === 'Put') done = await call('PutItem', { TableName: table, Item: spec.Item });
    else if (kind === 'Delete') done = await call('DeleteItem', { TableName: table, Key: key });
    else if (kind === 'Update') {
      const update = spec.UpdateExpression as string;
      done = await call('UpdateItem', {
        TableName: table,
        Key: key,
        UpdateExpression: update,
        ...usedBy(update, spec),
      });
    }
    if (done !== null && done.status !== 200) {
      for (const [index, step] of steps.entries()) {
        const item = before[index];
        if (item === undefined) await call('DeleteItem', { TableName: step.table, Key: step.key });
        else await call('PutItem', { TableName: step.table, Item: item });
      }
      return {
        status: done.status,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: JSON.stringify(done.json),
      };
    }
  }
  return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: '{}' };
}
