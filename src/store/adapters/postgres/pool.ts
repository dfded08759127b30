import pg from 'pg';
import { AppError } from '../../../errors/index.ts';
import { storeUnavailable } from '../../errors.ts';
import type { AuditBatch } from '../../port.ts';
import { appendAuditEvents } from './audit-rows.ts';

/** Options of `createPostgresStore`. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  connectionString: string;
  /** Schema holding every table (created by `migrate()` if missing). Default `public`. */
  schema?: string;
  /** Connections this process may open. Default 50. */
  poolSize?: number;
  /** How long to wait for a connection (new or from the pool), in ms. Default 2000. */
  connectTimeoutMs?: number;
  /** Server-side limit of one statement, in ms. Default 5000. */
  statementTimeoutMs?: number;
}

/** Runs one statement and returns its rows (and how many rows it changed). */
export type Query = <R = Record<string, unknown>>(
  text: string,
  values?: unknown[],
) => Promise<{ rows: R[]; rowCount: number }>;

/** The pool, and the retry and transaction helpers every store method runs through. */
export interface PgConnection {
  readonly schema: string;
  /**
   * Run one statement on its own (autocommit). Transient failures are retried;
   * a lost connection mid-statement is retried only when `idempotent` (reads are).
   */
  run<R = Record<string, unknown>>(
    operation: string,
    text: string,
    values: unknown[],
    options?: { idempotent?: boolean },
  ): Promise<{ rows: R[]; rowCount: number }>;
  /**
   * Run `fn` in one transaction. Transient failures before COMMIT are retried
   * (the transaction rolled back); a connection lost during COMMIT leaves the
   * outcome unknown, so that is retried only when `idempotent`.
   */
  transaction<T>(operation: string, fn: (query: Query) => Promise<T>, options?: { idempotent?: boolean }): Promise<T>;
  /** `transaction`, writing the audit events of `audit` (which see the outcome) in the same transaction. */
  audited<T>(
    operation: string,
    tenantId: string,
    audit: AuditBatch<T>,
    fn: (query: Query) => Promise<T>,
    options?: { idempotent?: boolean },
  ): Promise<T>;
  close(): Promise<void>;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const ATTEMPTS = 3;
const BACKOFF_MS = [50, 100, 200] as const;

/** Check the options eagerly and fill in defaults. */
export function resolveOptions(options: PostgresStoreOptions): Required<PostgresStoreOptions> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('createPostgresStore: options are required ({ connectionString })');
  }
  const { connectionString, schema = 'public', poolSize = 50, connectTimeoutMs = 2000 } = options;
  const { statementTimeoutMs = 5000 } = options;
  if (typeof connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(connectionString)) {
    throw new TypeError('createPostgresStore: connectionString must be a postgres:// or postgresql:// URL');
  }
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new TypeError(
      `createPostgresStore: schema must be letters, digits and underscores (not starting with a digit), got ${JSON.stringify(schema)}`,
    );
  }
  const positive = (name: string, value: unknown, max: number) => {
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) {
      throw new TypeError(`createPostgresStore: ${name} must be an integer from 1 to ${max}, got ${String(value)}`);
    }
  };
  positive('poolSize', poolSize, 10_000);
  positive('connectTimeoutMs', connectTimeoutMs, 600_000);
  positive('statementTimeoutMs', statementTimeoutMs, 3_600_000);
  return { connectionString, schema, poolSize, connectTimeoutMs, statementTimeoutMs };
}

// BIGINT columns hold ms timestamps and sequence numbers, all far below 2^53:
// read them as numbers (pg reads int8 as text by default). Scoped to this pool.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Quote an identifier already checked against `SCHEMA_NAME`. */
export const quoteIdent = (name: string): string => `"${name}"`;

/** Open the pool (lazily: no connection is made until the first query). */
export function openPool(options: Required<PostgresStoreOptions>): PgConnection {
  const { schema } = options;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs,
    // A backstop for a peer that stopped answering (the server-side timeout cannot fire then).
    query_timeout: options.statementTimeoutMs + options.connectTimeoutMs,
    keepAlive: true,
    options: `-c search_path=${quoteIdent(schema)} -c idle_in_transaction_session_timeout=${options.statementTimeoutMs * 2}`,
    types,
  });
  // A connection that dies while idle, or between two statements of a
  // transaction, emits 'error'; without a listener that would end the process.
  // The failure itself surfaces on the next query, which is retried.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));

  let closed: Promise<void> | null = null;

  const attempt = async <T>(
    operation: string,
    inTransaction: boolean,
    idempotent: boolean,
    work: (query: Query) => Promise<T>,
  ): Promise<T> => {
    for (let n = 1; ; n++) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        // Nothing was sent: always safe to try again, except after a timeout (fail fast).
        if (n < ATTEMPTS && isTransient(error) && !isTimeout(error)) {
          await backoff(n);
          continue;
        }
        throw storeUnavailable(operation, error);
      }
      const query: Query = async (text, values) => {
        const result = await client.query(text, values);
        return { rows: result.rows, rowCount: result.rowCount ?? 0 };
      };
      let committing = false;
      try {
        if (inTransaction) await client.query('BEGIN');
        const result = await work(query);
        if (inTransaction) {
          committing = true;
          await client.query('COMMIT');
        }
        client.release();
        return result;
      } catch (error) {
        let broken = isConnectionLost(error);
        if (inTransaction && !committing && !broken) {
          try {
            await client.query('ROLLBACK');
          } catch {
            broken = true;
          }
        }
        // A broken connection leaves the pool for good.
        client.release(broken ? asError(error) : undefined);
        if (error instanceof AppError || error instanceof TypeError) throw error;
        // Lost mid-COMMIT (or mid-statement outside a transaction): it may have been applied.
        const outcomeUnknown = broken && (committing || !inTransaction);
        if (n < ATTEMPTS && isTransient(error) && !isTimeout(error) && (idempotent || !outcomeUnknown)) {
          await backoff(n);
          continue;
        }
        throw storeUnavailable(operation, error);
      }
    }
  };

  const connection: PgConnection = {
    schema,
    run(operation, text, values, options = {}) {
      return attempt(operation, false, options.idempotent ?? false, (query) => query(text, values));
    },
    transaction(operation, fn, options = {}) {
      return attempt(operation, true, options.idempotent ?? false, fn);
    },
    audited(operation, tenantId, audit, fn, options = {}) {
      return attempt(operation, true, options.idempotent ?? false, async (query) => {
        const outcome = await fn(query);
        await appendAuditEvents(query, tenantId, audit.events(outcome), audit.at);
        return outcome;
      });
    },
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
  return connection;
}

/** SQLSTATE of a server error, if `error` is one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A unique or primary key refused the row. */
export const isUniqueViolation = (error: unknown): boolean => sqlState(error) === '23505';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);
const CONNECTION_MESSAGES = /Connection terminated|not queryable|connection timeout|Query read timeout/i;

// The connection cannot be used any more (network failure, server shutdown, timeout).
function isConnectionLost(error: unknown): boolean {
  if (error instanceof AppError || error instanceof TypeError) return false;
  const state = sqlState(error);
  if (state !== undefined) return state.startsWith('08') || state.startsWith('57P');
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  return error instanceof Error && CONNECTION_MESSAGES.test(error.message);
}

// Worth another attempt: the failure says nothing about the request itself.
function isTransient(error: unknown): boolean {
  const state = sqlState(error);
  if (state === '40001' || state === '40P01' || state === '53300') return true;
  return isConnectionLost(error);
}

// Waiting longer already failed once: answer now rather than triple the wait.
function isTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ETIMEDOUT' || (error instanceof Error && /timeout/i.test(error.message));
}

function backoff(attempt: number): Promise<void> {
  const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length) - 1] ?? 50;
  return new Promise((resolve) => setTimeout(resolve, base / 2 + Math.random() * base));
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));
