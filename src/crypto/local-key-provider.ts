/**
 * The default KeyProvider: master keys held locally, either in a key file
 * (a keyring that `rotateLocalMasterKey` grows) or one key from the
 * environment (`CONTINUUM_MASTER_KEY`).
 */
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors/index.ts';
import {
  assertKeyBytes,
  assertKeyContext,
  assertWrappedKey,
  KEY_BYTES,
  type KeyContext,
  type KeyProvider,
  PROBE_TENANT,
  type WrappedKey,
} from './key-provider.ts';
import { type Keyring, keyringFromMasterKey, loadOrCreateKeyFile, readKeyFile } from './local-keyring.ts';

export { rotateLocalMasterKey } from './local-keyring.ts';

/** Where the local master keys come from: give exactly one. */
export interface LocalKeyProviderOptions {
  /** Path of the JSON keyring; created (mode 0600) with one fresh key if absent. */
  keyFile?: string;
  /** Base64 of 32 bytes, from `CONTINUUM_MASTER_KEY`: a one-key ring, id `mk_<sha256 prefix>`. */
  masterKey?: string;
}

/** A local KeyProvider; `reload()` re-reads the key file (no-op for an env key). */
export interface LocalKeyProvider extends KeyProvider {
  readonly kind: 'local';
  /** The key file in use, or undefined when the key came from the environment. */
  readonly keyFile: string | undefined;
  /** Re-reads the key file, e.g. after `continuum keys rotate` ran in another process. */
  reload(): Promise<void>;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

function wrapAad(tenantId: string, masterKeyId: string): Buffer {
  return Buffer.from(`continuum:dek:v1:${tenantId}:${masterKeyId}`, 'utf8');
}

/**
 * Builds the local KeyProvider and loads its keys now, so a missing,
 * malformed or world-readable key file fails at boot rather than on the
 * first request.
 *
 * @example
 * const keys = await createLocalKeyProvider({ keyFile: join(dataDir, 'master-keys.json') });
 * const wrapped = await keys.wrap(dataKey, { tenantId });
 */
export async function createLocalKeyProvider(options: LocalKeyProviderOptions): Promise<LocalKeyProvider> {
  const { keyFile, masterKey } = options ?? {};
  if (keyFile !== undefined && (typeof keyFile !== 'string' || keyFile.length === 0)) {
    throw new TypeError('createLocalKeyProvider: keyFile must be a non-empty path');
  }
  if (masterKey !== undefined && typeof masterKey !== 'string') {
    throw new TypeError('createLocalKeyProvider: masterKey must be a base64 string');
  }
  if ((keyFile === undefined) === (masterKey === undefined)) {
    throw new TypeError(
      'createLocalKeyProvider needs exactly one of keyFile (a keyring path) or masterKey (CONTINUUM_MASTER_KEY)',
    );
  }

  let ring: Keyring = masterKey !== undefined ? keyringFromMasterKey(masterKey) : await loadOrCreateKeyFile(keyFile!);
  let reloading: Promise<void> | undefined;

  const reload = (): Promise<void> => {
    if (keyFile === undefined) return Promise.resolve();
    // Concurrent unwraps that all miss the same new key share one read.
    reloading ??= readKeyFile(keyFile)
      .then((next) => {
        ring = next;
      })
      .finally(() => {
        reloading = undefined;
      });
    return reloading;
  };

  const masterKeyFor = async (masterKeyId: string): Promise<Buffer> => {
    let key = ring.keys.get(masterKeyId);
    if (!key && keyFile !== undefined) {
      await reload();
      key = ring.keys.get(masterKeyId);
    }
    if (!key) {
      const where = keyFile === undefined ? 'CONTINUUM_MASTER_KEY' : `the key file ${keyFile}`;
      throw new AppError(
        'state_corrupt',
        `data key is wrapped by master key ${masterKeyId}, which is not in ${where}; restore that key to read it`,
      );
    }
    return key;
  };

  const wrap = async (plaintextKey: Buffer, context: KeyContext): Promise<WrappedKey> => {
    assertKeyBytes(plaintextKey, 'plaintextKey');
    assertKeyContext(context);
    const masterKeyId = ring.current;
    const masterKey = ring.keys.get(masterKeyId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
    cipher.setAAD(wrapAad(context.tenantId, masterKeyId));
    const body = Buffer.concat([cipher.update(plaintextKey), cipher.final()]);
    return { masterKeyId, wrapped: Buffer.concat([iv, cipher.getAuthTag(), body]) };
  };

  const unwrap = async (key: WrappedKey, context: KeyContext): Promise<Buffer> => {
    assertWrappedKey(key);
    assertKeyContext(context);
    const masterKey = await masterKeyFor(key.masterKeyId);
    const refused = (cause?: unknown): AppError =>
      new AppError('state_corrupt', 'wrapped data key does not belong to this tenant or was altered', { cause });
    if (key.wrapped.length !== IV_BYTES + TAG_BYTES + KEY_BYTES) throw refused();
    const iv = key.wrapped.subarray(0, IV_BYTES);
    const tag = key.wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', masterKey, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(wrapAad(context.tenantId, key.masterKeyId));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(key.wrapped.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch (cause) {
      throw refused(cause);
    }
  };

  const probe = async (): Promise<void> => {
    const sample = randomBytes(KEY_BYTES);
    const back = await unwrap(await wrap(sample, { tenantId: PROBE_TENANT }), { tenantId: PROBE_TENANT });
    if (!timingSafeEqual(sample, back)) throw new AppError('internal', 'local key provider probe returned other bytes');
  };

  return {
    kind: 'local',
    keyFile,
    currentMasterKeyId: () => ring.current,
    wrap,
    unwrap,
    probe,
    reload,
  };
}
