import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../../../errors/index.ts';
import { storeUnavailable } from '../../errors.ts';
import type { AuditBatch } from '../../port.ts';
import { type AuditQueries, prepareAuditQueries } from './audit-rows.ts';
import { type CheckpointResult, startWalCheckpointer, type WalCheckpointer } from './checkpointer.ts';
import { MIGRATIONS } from './migrations.ts';
import { prepareQueries, type Queries } from './queries.ts';

/** Options of `createSqliteStore`. */
export interface SqliteStoreOptions {
  /** Database file, or `:memory:`. */
  filename: string;
  /** `normal` survives kill -9 in WAL mode; `full` also survives power loss. */
  synchronous?: 'normal' | 'full';
  /** How long a writer waits for another process's lock, in ms. */
  busyTimeoutMs?: number;
  /**
   * Run WAL checkpoints on a worker thread (default `true`; a `:memory:` database has no WAL). Off, SQLite runs
   * them inside the commit that crosses its threshold, and the event loop waits for their I/O.
   */
  backgroundCheckpoints?: boolean;
  /** Told of every background checkpoint. */
  onCheckpoint?: (result: CheckpointResult) => void;
  /**
   * Told when a background checkpoint fails (`handedBack: false`; the next is tried 64 commits later) or when the
   * thread cannot start or dies and checkpoints go back to SQLite (`handedBack: true`, once). Either way a
   * `CONTINUUM_SQLITE_CHECKPOINT` process warning is emitted too.
   */
  onCheckpointFailure?: (failure: CheckpointFailure) => void;
}

/** A background checkpoint that failed, or checkpoints handed back to SQLite (see `onCheckpointFailure`). */
export interface CheckpointFailure {
  handedBack: boolean;
  reason: string;
}

/** One open database, its prepared statements, and the transaction helpers every store method runs through. */
export interface SqliteConnection {
  /** Statements of the core tables; throws `TypeError` before `migrate()`. */
  readonly queries: Queries;
  /** Statements of the audit tables; throws `TypeError` before `migrate()`. */
  readonly auditQueries: AuditQueries;
  /** Apply pending migrations, then prepare every statement. */
  migrate(): { from: number; to: number };
  /** A write round trip: a store that answers reads but refuses writes is not ready. */
  ping(): Promise<void>;
  /** Commit what is queued, stop the checkpoint thread, close the database. */
  close(): Promise<void>;
  /**
   * Run `fn` in a `BEGIN IMMEDIATE` transaction, wrapping driver errors.
   * Writes requested in the same turn of the event loop share one commit
   * (group commit); each promise settles only once its write is durable.
   */
  write<T>(operation: string, fn: () => T): Promise<T>;
  /** Run `fn` outside a transaction, wrapping driver errors. */
  read<T>(operation: string, fn: () => T): T;
  /** Run `fn` and write its audit events in the same transaction (group-committed like `write`). */
  audited<T>(operation: string, tenantId: string, audit: AuditBatch<T>, fn: () => T): Promise<T>;
}

/** Open (creating its folder if need be) and configure the database file. */
export function openConnection(options: SqliteStoreOptions): SqliteConnection {
  if (options.filename !== ':memory:') {
    mkdirSync(path.dirname(path.resolve(options.filename)), { recursive: true });
    // Owner-only from birth; SQLite gives the -wal and -shm files the same mode.
    if (!existsSync(options.filename)) closeSync(openSync(options.filename, 'a', 0o600));
  }
  let db: Database.Database;
  try {
    db = new Database(options.filename);
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
  } catch (error) {
    throw storeUnavailable('open', error);
  }
  const checkpointer = backgroundCheckpointer(db, options);

  // One transaction function each, made once: better-sqlite3 builds a wrapper (and its variants) per
  // `db.transaction()` call. Called inside a transaction, `transact` runs as a savepoint.
  const transact = db.transaction(<T>(fn: () => T): T => fn());
  const runBatch = db.transaction(
    (batch: readonly { fn: () => unknown }[], settled: { ok: boolean; value: unknown }[]) => {
      for (const op of batch) {
        try {
          settled.push({ ok: true, value: transact(op.fn) });
        } catch (error) {
          // Some errors (I/O, a full disk) make SQLite drop the whole transaction: nothing of the batch stands.
          if (!db.inTransaction) throw error;
          settled.push({ ok: false, value: error });
        }
      }
    },
  );

  let queries: Queries | null = null;
  let pending: { operation: string; fn: () => unknown; resolve(value: unknown): void; reject(error: unknown): void }[] =
    [];

  // Our own errors (refusals, misuse) pass through; anything else came from the driver.
  const wrapped = (operation: string, error: unknown): unknown =>
    error instanceof AppError || error instanceof TypeError ? error : storeUnavailable(operation, error);
  const wrap = (operation: string, error: unknown): never => {
    throw wrapped(operation, error);
  };

  const writeNow = <T>(operation: string, fn: () => T): T => {
    try {
      return transact.immediate(fn) as T;
    } catch (error) {
      return wrap(operation, error);
    }
  };

  // Group commit: a commit costs far more than the statements of one append
  // (WAL page writes), so the writes queued during one event-loop turn commit
  // together. Each write runs in its own savepoint, so a refused write rolls
  // back alone and the others run once (their `build` and audit `events` are
  // never called twice).
  const flush = () => {
    const batch = pending;
    pending = [];
    const settled: { ok: boolean; value: unknown }[] = [];
    try {
      runBatch.immediate(batch, settled);
    } catch (error) {
      for (const op of batch) op.reject(wrapped(op.operation, error));
      return;
    }
    checkpointer?.committed();
    for (const [i, op] of batch.entries()) {
      const result = settled[i]!;
      if (result.ok) op.resolve(result.value);
      else op.reject(wrapped(op.operation, result.value));
    }
  };
  let auditQueries: AuditQueries | null = null;

  const connection: SqliteConnection = {
    get queries(): Queries {
      if (queries === null) throw new TypeError('SqliteStore: call migrate() before using the store');
      return queries;
    },

    get auditQueries(): AuditQueries {
      if (auditQueries === null) throw new TypeError('SqliteStore: call migrate() before using the store');
      return auditQueries;
    },

    migrate() {
      const result = writeNow('migrate', () => {
        const from = db.pragma('user_version', { simple: true }) as number;
        for (let version = from; version < MIGRATIONS.length; version++) {
          db.exec(MIGRATIONS[version]!);
          db.pragma(`user_version = ${version + 1}`);
        }
        return { from, to: MIGRATIONS.length };
      });
      queries = prepareQueries(db);
      auditQueries = prepareAuditQueries(db);
      return result;
    },

    async ping() {
      await connection.write('ping', () =>
        db
          .prepare(
            "INSERT INTO meta (key, value) VALUES ('readiness-probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
          )
          .run(new Date().toISOString()),
      );
    },

    async close() {
      if (pending.length > 0) flush();
      // The checkpoint thread's connection closes first: the last one to close checkpoints the WAL away.
      await checkpointer?.close();
      db.close();
    },

    write<T>(operation: string, fn: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        pending.push({ operation, fn, resolve: resolve as (value: unknown) => void, reject });
        if (pending.length === 1) setImmediate(flush);
      });
    },

    read(operation, fn) {
      try {
        return fn();
      } catch (error) {
        return wrap(operation, error);
      }
    },

    audited(operation, tenantId, audit, fn) {
      return connection.write(operation, () => {
        const outcome = fn();
        connection.auditQueries.append(tenantId, audit.events(outcome), audit.at);
        return outcome;
      });
    },
  };
  return connection;
}

/** SQLite's own threshold (WAL pages), restored when checkpoints cannot run in the background. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/** Turn SQLite's automatic checkpoints off on `db` and run them on a worker thread instead (file databases). */
function backgroundCheckpointer(db: Database.Database, options: SqliteStoreOptions): WalCheckpointer | undefined {
  if (options.filename === ':memory:' || options.backgroundCheckpoints === false) return undefined;
  db.pragma('wal_autocheckpoint = 0');
  const warn = (message: string) => process.emitWarning(message, { code: 'CONTINUUM_SQLITE_CHECKPOINT' });
  return startWalCheckpointer({
    // The thread opens the file by name: the one this connection opened, whatever the working directory.
    filename: path.resolve(options.filename),
    fallback: (reason) => {
      if (db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
      warn(`${reason}; SQLite checkpoints the WAL inside commits again`);
      options.onCheckpointFailure?.({ handedBack: true, reason });
    },
    onFailure: (reason) => {
      warn(reason);
      options.onCheckpointFailure?.({ handedBack: false, reason });
    },
    ...(options.onCheckpoint ? { onCheckpoint: options.onCheckpoint } : {}),
  });
}
