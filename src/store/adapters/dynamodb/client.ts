import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { AppError } from '../../../errors/index.ts';
import { storeUnavailable } from '../../errors.ts';

/** Options of `createDynamoStore` and `createDynamoTable`. */
export interface DynamoStoreOptions {
  /** The table holding everything (see docs/DYNAMODB.md); create it with `continuum dynamodb create-table`. */
  table: string;
  /** Service endpoint, e.g. `http://127.0.0.1:8000` for a local DynamoDB; the region's endpoint when absent. */
  endpoint?: string;
  /** AWS region (default `us-east-1`). */
  region?: string;
  /** Static credentials; the SDK's default chain (environment, profile, instance role) when absent. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Most sockets open to DynamoDB at once (default 50). */
  maxSockets?: number;
  /** How long connecting may take, in ms (default 3000). */
  connectionTimeoutMs?: number;
  /** How long one request may take, in ms, before it is retried or fails (default 5000). */
  requestTimeoutMs?: number;
}

/** A connected client and the table it works on. */
export interface DynamoContext {
  readonly table: string;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`DynamoDB store: ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** Check `options` eagerly, with messages that say how to fix them. */
export function checkOptions(
  options: DynamoStoreOptions,
): Required<Omit<DynamoStoreOptions, 'endpoint' | 'credentials'>> &
  Pick<DynamoStoreOptions, 'endpoint' | 'credentials'> {
  if (typeof options !== 'object' || options === null) throw new TypeError('DynamoDB store: options are required');
  if (typeof options.table !== 'string' || !TABLE_NAME.test(options.table)) {
    throw new TypeError(
      'DynamoDB store: table must be a DynamoDB table name (3-255 letters, digits, "_", "-" or "."); set CONTINUUM_DYNAMODB_TABLE',
    );
  }
  if (options.endpoint !== undefined) {
    let url: URL | null = null;
    try {
      url = new URL(options.endpoint);
    } catch {
      url = null;
    }
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new TypeError(`DynamoDB store: endpoint must be an http(s) URL, got ${JSON.stringify(options.endpoint)}`);
    }
  }
  const region = options.region ?? 'us-east-1';
  if (typeof region !== 'string' || !/^[a-z0-9-]+$/.test(region)) {
    throw new TypeError(`DynamoDB store: region must look like us-east-1, got ${JSON.stringify(options.region)}`);
  }
  const credentials = options.credentials;
  if (
    credentials !== undefined &&
    (typeof credentials?.accessKeyId !== 'string' ||
      credentials.accessKeyId === '' ||
      typeof credentials.secretAccessKey !== 'string' ||
      credentials.secretAccessKey === '')
  ) {
    throw new TypeError('DynamoDB store: credentials need a non-empty accessKeyId and secretAccessKey');
  }
  return {
    table: options.table,
    endpoint: options.endpoint,
    region,
    credentials,
    maxSockets: positiveInteger(options.maxSockets, 'maxSockets', 50),
    connectionTimeoutMs: positiveInteger(options.connectionTimeoutMs, 'connectionTimeoutMs', 3000),
    requestTimeoutMs: positiveInteger(options.requestTimeoutMs, 'requestTimeoutMs', 5000),
  };
}

/** Build the client (no I/O: the first request connects). */
export function openContext(options: DynamoStoreOptions): DynamoContext {
  const checked = checkOptions(options);
  const requestHandler = new NodeHttpHandler({
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: checked.maxSockets }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: checked.maxSockets }),
    connectionTimeout: checked.connectionTimeoutMs,
    requestTimeout: checked.requestTimeoutMs,
    throwOnRequestTimeout: true,
  });
  const client = new DynamoDBClient({
    region: checked.region,
    maxAttempts: 3,
    requestHandler,
    ...(checked.endpoint === undefined ? {} : { endpoint: checked.endpoint }),
    ...(checked.credentials === undefined ? {} : { credentials: checked.credentials }),
  });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { table: checked.table, client, doc };
}

/** The error's name as the SDK reports it (`ConditionalCheckFailedException`, `TimeoutError`, ...). */
export function errorName(error: unknown): string {
  return typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : '';
}

/** Our own errors (refusals, misuse) pass through; anything else came from the driver or the network. */
export function wrapError(operation: string, error: unknown): Error {
  if (error instanceof AppError || error instanceof TypeError) return error;
  return storeUnavailable(operation, error);
}

/** Run one request, wrapping whatever it throws. */
export async function request<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw wrapError(operation, error);
  }
}

/** Run one conditional write: false when its condition failed, errors wrapped. */
export async function conditionalWrite(operation: string, fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (error) {
    if (errorName(error) === 'ConditionalCheckFailedException') return false;
    throw wrapError(operation, error);
  }
}

/** Sleep up to `maxMs` (full jitter), so racing writers spread out. */
export function jitter(maxMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * maxMs));
}
