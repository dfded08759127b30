export {
  createTenantCipher,
  type DataKeyRecord,
  type DataKeyRepository,
  type RewrapOptions,
  rewrapAllDataKeys,
  type TenantCipher,
  type TenantCipherOptions,
} from './data-keys.ts';
export {
  assertCipherContext,
  type CipherContext,
  openWithKey,
  SEALED_OVERHEAD,
  sealedKeyVersion,
  sealWithKey,
} from './envelope.ts';
export { KEY_BYTES, type KeyContext, type KeyProvider, PROBE_TENANT, type WrappedKey } from './key-provider.ts';
export { createKmsKeyProvider, type KmsKeyProvider, type KmsKeyProviderOptions } from './kms-key-provider.ts';
export {
  createLocalKeyProvider,
  type LocalKeyProvider,
  type LocalKeyProviderOptions,
  rotateLocalMasterKey,
} from './local-key-provider.ts';
export { masterKeyFingerprint } from './local-keyring.ts';
