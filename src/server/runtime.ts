import path from 'node:path';
import { AuditTrail } from '../audit/audit-trail.ts';
import { resolveAdminToken } from '../auth/admin-token.ts';
import { SigningKeyring } from '../auth/signing-keys.ts';
import { type Config, ConfigError } from '../config/index.ts';
import { systemClock } from '../core/clock.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import { createKmsKeyProvider } from '../crypto/kms-key-provider.ts';
import { createLocalKeyProvider } from '../crypto/local-key-provider.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { DynamoStoreOptions } from '../store/adapters/dynamodb/dynamo-store.ts';
import type { CheckpointFailure, SqliteStoreOptions } from '../store/adapters/sqlite/connection.ts';
import { createSqliteStore } from '../store/adapters/sqlite/sqlite-store.ts';
import type { Store } from '../store/port.ts';

export const SQLITE_FILE = 'continuum.db';
export const MASTER_KEY_FILE = 'master-keys.json';

/**
 * Open the configured store (not yet migrated). Fails with a message that says how to fix it.
 * The PostgreSQL and DynamoDB drivers load only when configured. With `metrics`, the SQLite store's background
 * checkpoints are counted there; `onCheckpointFailure` is told of each that fails (see {@link CheckpointFailureRelay}).
 */
export async function openStore(
  config: Config,
  options: { metrics?: Metrics; onCheckpointFailure?: (failure: CheckpointFailure) => void } = {},
): Promise<Store> {
  switch (config.store) {
    case 'sqlite': {
      const counted = options.metrics ? checkpointMetrics(options.metrics) : {};
      const told = options.onCheckpointFailure;
      return createSqliteStore({
        filename: path.resolve(config.dataDir, SQLITE_FILE),
        synchronous: config.sqliteSync,
        ...counted,
        onCheckpointFailure: (failure) => {
          counted.onCheckpointFailure?.(failure);
          told?.(failure);
        },
      });
    }
    case 'postgres': {
      if (config.databaseUrl === undefined) {
        throw new ConfigError('CONTINUUM_DATABASE_URL: required when CONTINUUM_STORE=postgres');
      }
      const { createPostgresStore } = await import('../store/adapters/postgres/postgres-store.ts');
      return createPostgresStore({
        connectionString: config.databaseUrl,
        schema: config.databaseSchema,
        poolSize: config.databasePoolSize,
      });
    }
    case 'dynamodb': {
      const { createDynamoStore } = await import('../store/adapters/dynamodb/dynamo-store.ts');
      return createDynamoStore(dynamoOptionsOf(config));
    }
  }
}

/** The SQLite store's checkpoint hooks, counted in `metrics` (`continuum_sqlite_checkpoint*`). */
export function checkpointMetrics(metrics: Metrics): Pick<SqliteStoreOptions, 'onCheckpoint' | 'onCheckpointFailure'> {
  return {
    onCheckpoint: (result) => {
      const outcome = result.busy ? 'busy' : result.checkpointed < result.log ? 'partial' : 'complete';
      metrics.sqliteCheckpoints.inc({ outcome });
      metrics.sqliteCheckpointSeconds.observe(result.ms / 1000);
    },
    onCheckpointFailure: ({ handedBack }) =>
      metrics.sqliteCheckpoints.inc({ outcome: handedBack ? 'handed_back' : 'failed' }),
  };
}

/**
 * Holds the SQLite store's checkpoint failures until something listens: `serve` opens the store before the app
 * whose alerts report them, and a checkpoint thread that cannot start fails at once.
 *
 * @example
 * const checkpointFailures = new CheckpointFailureRelay();
 * const store = await openStore(config, { onCheckpointFailure: checkpointFailures.report });
 * const { services } = await buildApp(config, { store, ... });
 * checkpointFailures.listen(services.operations.checkpointFailed);
 */
export class CheckpointFailureRelay {
  readonly #held: CheckpointFailure[] = [];
  #listener: ((failure: CheckpointFailure) => void) | undefined;

  readonly report = (failure: CheckpointFailure): void => {
    if (this.#listener) this.#listener(failure);
    // A hand-back is always kept; a few failures are all an alert needs.
    else if (failure.handedBack || this.#held.length < 16) this.#held.push(failure);
  };

  /** Tell `listener` of what was held, then of every failure from now on. */
  listen(listener: (failure: CheckpointFailure) => void): void {
    this.#listener = listener;
    for (const failure of this.#held.splice(0)) listener(failure);
  }
}

/** The DynamoDB adapter's options from config (also used by `continuum dynamodb create-table`). */
export function dynamoOptionsOf(config: Config): DynamoStoreOptions {
  return {
    table: config.dynamodbTable,
    ...(config.dynamodbEndpoint === undefined ? {} : { endpoint: config.dynamodbEndpoint }),
    ...(config.dynamodbRegion === undefined ? {} : { region: config.dynamodbRegion }),
  };
}

/** The configured KeyProvider: a local key (env or generated file) or AWS KMS. */
export async function openKeyProvider(config: Config): Promise<KeyProvider> {
  if (config.keyProvider === 'kms') {
    return createKmsKeyProvider({
      keyId: config.kmsKeyId!,
      ...(config.kmsEndpoint === undefined ? {} : { endpoint: config.kmsEndpoint }),
    });
  }
  return createLocalKeyProvider(
    config.masterKey === undefined
      ? { keyFile: path.resolve(config.dataDir, MASTER_KEY_FILE) }
      : { masterKey: config.masterKey },
  );
}

export { resolveAdminToken };

/** Store, signing keys and audit trail: what CLI commands that change state need. */
export async function openCore(config: Config): Promise<{ store: Store; keyring: SigningKeyring; audit: AuditTrail }> {
  const store = await openStore(config);
  try {
    await store.migrate();
    const keyring = new SigningKeyring({ store, clock: systemClock });
    await keyring.init();
    const audit = new AuditTrail({
      store,
      clock: systemClock,
      keyring,
      checkpointEvery: config.auditCheckpointEvery,
      checkpointIntervalMs: config.auditCheckpointInterval * 1000,
    });
    return { store, keyring, audit };
  } catch (error) {
    await store.close();
    throw error;
  }
}
