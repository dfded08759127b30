/**
 * The KeyProvider port (ADR-008): a master key that wraps and unwraps each
 * tenant's data keys. Adapters: a local key file / env key, and AWS KMS.
 */

/** A data key as stored: encrypted under the master key `masterKeyId`. */
export interface WrappedKey {
  masterKeyId: string;
  wrapped: Buffer;
}

/** What a wrap is bound to: a wrapped key copied to another tenant fails to unwrap. */
export interface KeyContext {
  tenantId: string;
}

/**
 * Wraps per-tenant data keys under a master key. The tenant id is bound into
 * every wrap (AAD for the local provider, EncryptionContext for KMS), so
 * unwrapping under another tenant fails with `AppError('state_corrupt')`.
 */
export interface KeyProvider {
  readonly kind: 'local' | 'kms';
  /** Id of the master key new wraps use. */
  currentMasterKeyId(): string;
  /** Encrypts a 32-byte data key for `context.tenantId` under the current master key. */
  wrap(plaintextKey: Buffer, context: KeyContext): Promise<WrappedKey>;
  /** Decrypts a wrapped data key; `state_corrupt` if it was not wrapped for this tenant or was altered. */
  unwrap(key: WrappedKey, context: KeyContext): Promise<Buffer>;
  /** Cheap round trip proving the provider works (for /readyz). */
  probe(): Promise<void>;
}

/** Length in bytes of data keys and master keys (AES-256). */
export const KEY_BYTES = 32;

/** Tenant id used by `probe()` round trips; never a real tenant's. */
export const PROBE_TENANT = '__continuum_probe__';

/** Throws `TypeError` unless `key` is a 32-byte Buffer. */
export function assertKeyBytes(key: unknown, what: string): asserts key is Buffer {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new TypeError(`${what} must be a Buffer of ${KEY_BYTES} bytes`);
  }
}

/** Throws `TypeError` unless `context.tenantId` is a non-empty string. */
export function assertKeyContext(context: unknown): asserts context is KeyContext {
  const tenantId = (context as Partial<KeyContext> | null | undefined)?.tenantId;
  if (typeof tenantId !== 'string' || tenantId.length === 0) {
    throw new TypeError('key context needs a non-empty tenantId');
  }
}

/** Throws `TypeError` unless `key` looks like a `WrappedKey`. */
export function assertWrappedKey(key: unknown): asserts key is WrappedKey {
  const candidate = key as Partial<WrappedKey> | null | undefined;
  if (typeof candidate?.masterKeyId !== 'string' || candidate.masterKeyId.length === 0) {
    throw new TypeError('wrapped key needs a non-empty masterKeyId');
  }
  if (!Buffer.isBuffer(candidate.wrapped)) throw new TypeError('wrapped key needs a Buffer `wrapped`');
}
