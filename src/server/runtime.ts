import path from 'node:path';
import { resolveAdminToken } from '../auth/admin-token.ts';
import type { Config } from '../config/index.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import { createKmsKeyProvider } from '../crypto/kms-key-provider.ts';
import { createLocalKeyProvider } from '../crypto/local-key-provider.ts';
import { createSqliteStore } from '../store/adapters/sqlite/sqlite-store.ts';
import type { Store } from '../store/port.ts';

export const SQLITE_FILE = 'continuum.db';
export const MASTER_KEY_FILE = 'master-keys.json';

/** Open the configured store (not yet migrated). Fails with a message that says how to fix it. */
export function openStore(config: Config): Store {
  switch (config.store) {
    case 'sqlite':
      return createSqliteStore({ filename: path.resolve(config.dataDir, SQLITE_FILE), synchronous: config.sqliteSync });
    case 'postgres':
    case 'dynamodb':
      throw new Error(`CONTINUUM_STORE=${config.store} is not available in this build yet; use sqlite`);
  }
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
