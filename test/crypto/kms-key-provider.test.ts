import { randomBytes } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createKmsKeyProvider } from '../../src/crypto/kms-key-provider.ts';
import { AppError } from '../../src/errors/index.ts';
import { type FakeKms, startFakeKms } from './fake-kms.ts';

let kms: FakeKms;
let client: KMSClient;
const tenant = { tenantId: 'tnt_a' };

beforeAll(async () => {
  kms = await startFakeKms();
  client = new KMSClient({
    region: kms.region,
    endpoint: kms.endpoint,
    credentials: { accessKeyId: 'AKIDFAKEFAKEFAKE', secretAccessKey: 'fake-secret' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await kms.close();
});

describe('KMS key provider (against a loopback fake KMS)', () => {
  it('wraps with Encrypt and unwraps with Decrypt, binding the tenant in the EncryptionContext', async () => {
    const arn = kms.createKey();
    const keys = createKmsKeyProvider({ keyId: arn, client });
    expect(keys.kind).toBe('kms');
    const dataKey = randomBytes(32);
    const seen = kms.calls.length;
    const wrapped = await keys.wrap(dataKey, tenant);
    expect(wrapped.masterKeyId).toBe(arn);
    expect((await keys.unwrap(wrapped, tenant)).equals(dataKey)).toBe(true);

    const [encrypt, decrypt] = kms.calls.slice(seen);
    expect(encrypt).toMatchObject({
      target: 'TrentService.Encrypt',
      contentType: 'application/x-amz-json-1.1',
      signed: true,
      body: { KeyId: arn, EncryptionContext: { tenant: 'tnt_a', purpose: 'continuum-dek' } },
    });
    expect(Buffer.from(encrypt!.body.Plaintext as string, 'base64').equals(dataKey)).toBe(true);
    expect(decrypt).toMatchObject({
      target: 'TrentService.Decrypt',
      body: { KeyId: arn, EncryptionContext: { tenant: 'tnt_a', purpose: 'continuum-dek' } },
    });
  });

  it('refuses a wrapped key copied to another tenant with state_corrupt', async () => {
    const keys = createKmsKeyProvider({ keyId: kms.createKey(), client });
    const wrapped = await keys.wrap(randomBytes(32), tenant);
    const failure = keys.unwrap(wrapped, { tenantId: 'tnt_b' });
    await expect(failure).rejects.toBeInstanceOf(AppError);
    await expect(keys.unwrap(wrapped, { tenantId: 'tnt_b' })).rejects.toMatchObject({
      code: 'state_corrupt',
      cause: { name: 'InvalidCiphertextException' },
    });
  });

  it('refuses an altered blob and a blob relabelled with another key', async () => {
    const keys = createKmsKeyProvider({ keyId: kms.createKey(), client });
    const wrapped = await keys.wrap(randomBytes(32), tenant);
    const tampered = Buffer.from(wrapped.wrapped);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
    await expect(keys.unwrap({ ...wrapped, wrapped: tampered }, tenant)).rejects.toMatchObject({
      code: 'state_corrupt',
    });
    await expect(keys.unwrap({ ...wrapped, masterKeyId: kms.createKey() }, tenant)).rejects.toMatchObject({
      code: 'state_corrupt',
      cause: { name: 'IncorrectKeyException' },
    });
  });

  it('reports the key ARN as current once KMS has resolved an alias', async () => {
    const arn = kms.createKey('continuum-test');
    const keys = createKmsKeyProvider({ keyId: 'alias/continuum-test', client });
    expect(keys.currentMasterKeyId()).toBe('alias/continuum-test');
    await keys.probe();
    expect(keys.currentMasterKeyId()).toBe(arn);
    expect((await keys.wrap(randomBytes(32), tenant)).masterKeyId).toBe(arn);
  });

  it('builds its own client from region and endpoint', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFAKEFAKEFAKE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'fake-secret');
    try {
      const keys = createKmsKeyProvider({ keyId: kms.createKey(), region: kms.region, endpoint: kms.endpoint });
      await expect(keys.probe()).resolves.toBeUndefined();
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('maps other KMS failures to internal with the AWS error as cause', async () => {
    const arn = kms.createKey();
    const keys = createKmsKeyProvider({ keyId: arn, client });
    await keys.probe();
    kms.disableKey(arn);
    await expect(keys.probe()).rejects.toMatchObject({
      code: 'internal',
      message: 'KMS Encrypt failed: DisabledException',
      cause: { name: 'DisabledException' },
    });
    const missing = createKmsKeyProvider({ keyId: 'alias/nope', client });
    await expect(missing.wrap(randomBytes(32), tenant)).rejects.toMatchObject({
      code: 'internal',
      cause: { name: 'NotFoundException' },
    });
  });

  it('maps an unreachable KMS to internal', async () => {
    const down = new KMSClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:1',
      credentials: { accessKeyId: 'AKIDFAKEFAKEFAKE', secretAccessKey: 'fake-secret' },
      maxAttempts: 1,
    });
    try {
      const keys = createKmsKeyProvider({ keyId: 'alias/any', client: down });
      await expect(keys.probe()).rejects.toMatchObject({ code: 'internal' });
    } finally {
      down.destroy();
    }
  });

  it('throws TypeError for misuse', async () => {
    expect(() => createKmsKeyProvider({ keyId: '' })).toThrow(TypeError);
    expect(() => createKmsKeyProvider({ keyId: 'k', client, requestTimeoutMs: 0 })).toThrow(TypeError);
    const keys = createKmsKeyProvider({ keyId: kms.createKey(), client });
    await expect(keys.wrap(randomBytes(31), tenant)).rejects.toThrow(TypeError);
    await expect(keys.unwrap({ masterKeyId: '', wrapped: Buffer.alloc(1) }, tenant)).rejects.toThrow(TypeError);
  });
});
