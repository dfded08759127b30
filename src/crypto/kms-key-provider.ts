/**
 * KeyProvider on AWS KMS: data keys are wrapped by KMS `Encrypt` under one
 * customer master key, with the tenant in the EncryptionContext so KMS itself
 * refuses to unwrap a key for another tenant.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  DecryptCommand,
  type DecryptCommandOutput,
  EncryptCommand,
  type EncryptCommandOutput,
  KMSClient,
} from '@aws-sdk/client-kms';
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

/** Options of `createKmsKeyProvider`. */
export interface KmsKeyProviderOptions {
  /** Key id, ARN, alias name (`alias/…`) or alias ARN of the KMS key new wraps use. */
  keyId: string;
  /** AWS region; defaults to the SDK's own resolution (AWS_REGION, profile). */
  region?: string;
  /** Endpoint override (VPC endpoint, LocalStack, a test fake). */
  endpoint?: string;
  /** A ready client; `region` and `endpoint` are then ignored. */
  client?: KMSClient;
  /** Abort a KMS call after this many ms (default 10 000), so /readyz cannot hang on KMS. */
  requestTimeoutMs?: number;
}

/** The KMS KeyProvider. `masterKeyId` of its wraps is the key ARN KMS reports. */
export interface KmsKeyProvider extends KeyProvider {
  readonly kind: 'kms';
}

/** KMS reports these when the blob, the key or the EncryptionContext does not match. */
const NOT_YOURS = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

function encryptionContext(context: KeyContext): Record<string, string> {
  return { tenant: context.tenantId, purpose: 'continuum-dek' };
}

function toAppError(operation: 'Encrypt' | 'Decrypt', error: unknown): AppError {
  if (error instanceof AppError) return error;
  const name = (error as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && NOT_YOURS.has(name)) {
    return new AppError('state_corrupt', `wrapped data key does not belong to this tenant or was altered (${name})`, {
      cause: error,
    });
  }
  const label = typeof name === 'string' ? `: ${name}` : '';
  return new AppError('internal', `KMS ${operation} failed${label}`, { cause: error });
}

/**
 * Builds the KMS KeyProvider. No network I/O happens until the first call.
 *
 * @example
 * const keys = createKmsKeyProvider({ keyId: 'alias/continuum', region: 'eu-west-1' });
 * await keys.probe();
 */
export function createKmsKeyProvider(options: KmsKeyProviderOptions): KmsKeyProvider {
  const { keyId, region, endpoint, requestTimeoutMs = 10_000 } = options ?? ({} as KmsKeyProviderOptions);
  if (typeof keyId !== 'string' || keyId.trim().length === 0) {
    throw new TypeError('createKmsKeyProvider needs keyId: the id, ARN or alias of the KMS key that wraps data keys');
  }
  if (!Number.isFinite(requestTimeoutMs) || requestTimeoutMs <= 0) {
    throw new TypeError('createKmsKeyProvider: requestTimeoutMs must be a positive number of milliseconds');
  }
  const client =
    options.client ??
    new KMSClient({
      ...(region === undefined ? {} : { region }),
      ...(endpoint === undefined ? {} : { endpoint }),
    });
  // An alias resolves to a key ARN; once KMS has told us which, wraps are
  // labelled with that ARN and `currentMasterKeyId` reports it too, so a
  // rewrap can tell which records are already under the current key. Encrypt
  // still names the configured id, so retargeting an alias takes effect.
  let resolvedKeyId: string | undefined;

  const callOptions = () => ({ abortSignal: AbortSignal.timeout(requestTimeoutMs) });

  const wrap = async (plaintextKey: Buffer, context: KeyContext): Promise<WrappedKey> => {
    assertKeyBytes(plaintextKey, 'plaintextKey');
    assertKeyContext(context);
    let out: EncryptCommandOutput;
    try {
      out = await client.send(
        new EncryptCommand({
          KeyId: keyId,
          Plaintext: plaintextKey,
          EncryptionContext: encryptionContext(context),
        }),
        callOptions(),
      );
    } catch (error) {
      throw toAppError('Encrypt', error);
    }
    if (!out.CiphertextBlob || !out.KeyId)
      throw new AppError('internal', 'KMS Encrypt returned no ciphertext or key id');
    resolvedKeyId = out.KeyId;
    return { masterKeyId: out.KeyId, wrapped: Buffer.from(out.CiphertextBlob) };
  };

  const unwrap = async (key: WrappedKey, context: KeyContext): Promise<Buffer> => {
    assertWrappedKey(key);
    assertKeyContext(context);
    let out: DecryptCommandOutput;
    try {
      out = await client.send(
        new DecryptCommand({
          KeyId: key.masterKeyId,
          CiphertextBlob: key.wrapped,
          EncryptionContext: encryptionContext(context),
        }),
        callOptions(),
      );
    } catch (error) {
      throw toAppError('Decrypt', error);
    }
    if (!out.Plaintext || out.Plaintext.length !== KEY_BYTES) {
      throw new AppError('state_corrupt', `KMS Decrypt did not return a ${KEY_BYTES}-byte data key`);
    }
    return Buffer.from(out.Plaintext);
  };

  const probe = async (): Promise<void> => {
    const sample = randomBytes(KEY_BYTES);
    const back = await unwrap(await wrap(sample, { tenantId: PROBE_TENANT }), { tenantId: PROBE_TENANT });
    if (!timingSafeEqual(sample, back)) throw new AppError('internal', 'KMS probe returned other bytes');
  };

  return {
    kind: 'kms',
    currentMasterKeyId: () => resolvedKeyId ?? keyId,
    wrap,
    unwrap,
    probe,
  };
}
