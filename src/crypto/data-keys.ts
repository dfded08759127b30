/**
 * Per-tenant data keys (ADR-008): each tenant's text is sealed under its own
 * random 256-bit data key, stored only wrapped by the master key. Unwrapped
 * keys are cached in process; a data key never changes once made, only its
 * wrapping does (on master-key rotation), so the cache never goes stale.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { AppError } from '../errors/index.ts';
import { assertCipherContext, type CipherContext, openWithKey, sealedKeyVersion, sealWithKey } from './envelope.ts';
import { KEY_BYTES, type KeyProvider } from './key-provider.ts';

/** One stored data key: version `version` of a tenant's keys, wrapped by `masterKeyId`. */
export interface DataKeyRecord {
  tenantId: string;
  version: number;
  masterKeyId: string;
  wrapped: Buffer;
  /** ISO 8601 time of creation. */
  createdAt: string;
}

/** Implemented by each store adapter (the lead writes the SQLite one). */
export interface DataKeyRepository {
  /** All of a tenant's data keys, any order. */
  listDataKeys(tenantId: string): Promise<DataKeyRecord[]>;
  /** Insert if (tenantId, version) is absent; returns false if another node won the race. */
  insertDataKey(record: DataKeyRecord): Promise<boolean>;
  /** Replace the wrapping of one key, only if it is still wrapped by expectedMasterKeyId. Returns false otherwise. */
  rewrapDataKey(
    tenantId: string,
    version: number,
    expectedMasterKeyId: string,
    next: { masterKeyId: string; wrapped: Buffer },
  ): Promise<boolean>;
  /** Every tenant that has at least one data key. */
  listTenantsWithDataKeys(): Promise<string[]>;
}

/** Seals and opens text with the tenant's data keys. */
export interface TenantCipher {
  /** Seals under the tenant's newest data key, creating version 1 on first use. */
  seal(ctx: CipherContext, plaintext: string): Promise<Buffer>;
  /** Opens with the data key named by the sealed header; `state_corrupt` if it does not belong to `ctx`. */
  open(ctx: CipherContext, sealed: Buffer): Promise<string>;
  /** Loads (creating if need be) the tenant's keys so the sync variants work; cheap when cached. */
  ensureLoaded(tenantId: string): Promise<void>;
  /** `seal` without I/O; throws `TypeError` unless `ensureLoaded(ctx.tenantId)` ran. */
  sealSync(ctx: CipherContext, plaintext: string): Buffer;
  /** `open` without I/O; throws `TypeError` unless `ensureLoaded(ctx.tenantId)` ran. */
  openSync(ctx: CipherContext, sealed: Buffer): string;
}

/** Options of `createTenantCipher`. */
export interface TenantCipherOptions {
  keys: KeyProvider;
  repository: DataKeyRepository;
  clock: Clock;
  /** How long a tenant's key list counts as current before `ensureLoaded`/`seal` re-list it (default 60 s). */
  cacheTtlMs?: number;
}

interface TenantKeys {
  byVersion: Map<number, Buffer>;
  newest: number;
  listedAt: number;
}

function assertTenantId(tenantId: unknown): asserts tenantId is string {
  if (typeof tenantId !== 'string' || tenantId.length === 0) throw new TypeError('tenantId must be a non-empty string');
}

function checkedDataKey(key: Buffer, tenantId: string, version: number): Buffer {
  if (key.length !== KEY_BYTES) {
    throw new AppError('state_corrupt', `data key version ${version} of tenant ${tenantId} has the wrong length`);
  }
  return key;
}

/**
 * Builds the tenant cipher over a KeyProvider and a store's DataKeyRepository.
 *
 * @example
 * const cipher = createTenantCipher({ keys, repository: store, clock: systemClock });
 * const sealed = await cipher.seal({ tenantId, conversationId, field: 'message', turn: 3 }, text);
 */
export function createTenantCipher(options: TenantCipherOptions): TenantCipher {
  const { keys, repository, clock, cacheTtlMs = 60_000 } = options ?? ({} as TenantCipherOptions);
  if (!keys || !repository || !clock) throw new TypeError('createTenantCipher needs keys, repository and clock');
  if (!Number.isFinite(cacheTtlMs) || cacheTtlMs < 0) {
    throw new TypeError('createTenantCipher: cacheTtlMs must be a non-negative number');
  }
  const cache = new Map<string, TenantKeys>();
  const loading = new Map<string, Promise<TenantKeys>>();

  const refresh = async (tenantId: string, create: boolean): Promise<TenantKeys> => {
    const byVersion = new Map(cache.get(tenantId)?.byVersion ?? []);
    let records = await repository.listDataKeys(tenantId);
    if (records.length === 0 && create) {
      const dataKey = randomBytes(KEY_BYTES);
      const wrapped = await keys.wrap(dataKey, { tenantId });
      const record = { tenantId, version: 1, ...wrapped, createdAt: new Date(clock.now()).toISOString() };
      if (await repository.insertDataKey(record)) byVersion.set(1, dataKey);
      // Whoever won the insert, the stored key is the one everybody uses.
      records = await repository.listDataKeys(tenantId);
      if (records.length === 0) throw new AppError('internal', `data key of tenant ${tenantId} was not stored`);
    }
    for (const record of records) {
      if (record.tenantId !== tenantId) {
        throw new AppError('state_corrupt', `data key listed for tenant ${tenantId} belongs to another tenant`);
      }
      if (byVersion.has(record.version)) continue;
      const key = await keys.unwrap({ masterKeyId: record.masterKeyId, wrapped: record.wrapped }, { tenantId });
      byVersion.set(record.version, checkedDataKey(key, tenantId, record.version));
    }
    const entry: TenantKeys = { byVersion, newest: Math.max(0, ...byVersion.keys()), listedAt: clock.now() };
    if (byVersion.size > 0) cache.set(tenantId, entry);
    return entry;
  };

  // One list/unwrap per tenant at a time, however many requests ask at once.
  const load = (tenantId: string, create: boolean): Promise<TenantKeys> => {
    const pending = loading.get(tenantId);
    if (pending) {
      return pending.then((entry) => (create && entry.byVersion.size === 0 ? load(tenantId, create) : entry));
    }
    const run = refresh(tenantId, create).finally(() => {
      if (loading.get(tenantId) === run) loading.delete(tenantId);
    });
    loading.set(tenantId, run);
    return run;
  };

  const loaded = (tenantId: string): TenantKeys => {
    const entry = cache.get(tenantId);
    if (!entry) throw new TypeError(`data keys of tenant ${tenantId} are not loaded: await ensureLoaded() first`);
    return entry;
  };

  const openFrom = (entry: TenantKeys, ctx: CipherContext, sealed: Buffer): string => {
    const version = sealedKeyVersion(sealed);
    const key = entry.byVersion.get(version);
    if (!key)
      throw new AppError('state_corrupt', `ciphertext names data key version ${version}, which this tenant lacks`);
    return openWithKey(key, ctx, sealed);
  };

  const ensureLoaded = async (tenantId: string): Promise<void> => {
    assertTenantId(tenantId);
    const entry = cache.get(tenantId);
    if (entry && clock.now() - entry.listedAt < cacheTtlMs) return;
    await load(tenantId, true);
  };

  const sealSync = (ctx: CipherContext, plaintext: string): Buffer => {
    assertCipherContext(ctx);
    const entry = loaded(ctx.tenantId);
    return sealWithKey(entry.byVersion.get(entry.newest)!, entry.newest, ctx, plaintext);
  };

  const openSync = (ctx: CipherContext, sealed: Buffer): string => {
    assertCipherContext(ctx);
    return openFrom(loaded(ctx.tenantId), ctx, sealed);
  };

  return {
    ensureLoaded,
    sealSync,
    openSync,
    async seal(ctx, plaintext) {
      assertCipherContext(ctx);
      await ensureLoaded(ctx.tenantId);
      return sealSync(ctx, plaintext);
    },
    async open(ctx, sealed) {
      assertCipherContext(ctx);
      const version = sealedKeyVersion(sealed);
      let entry = cache.get(ctx.tenantId);
      // Only a version newer than any we know can have appeared since we listed.
      if (!entry || version > entry.newest) entry = await load(ctx.tenantId, false);
      return openFrom(entry, ctx, sealed);
    },
  };
}

/** Options of `rewrapAllDataKeys`. */
export interface RewrapOptions {
  /** The provider whose current master key the data keys move to (and which can still unwrap the old ones). */
  keys: KeyProvider;
  repository: DataKeyRepository;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Re-wraps every tenant's data keys under the provider's current master key,
 * e.g. after `rotateLocalMasterKey` or a switch of KMS key. The data keys
 * themselves stay the same, so ciphertexts and running ciphers are untouched.
 * Each new wrap is unwrapped and compared before it replaces the old one; a
 * record another node re-wrapped meanwhile counts as skipped.
 *
 * @example
 * await rotateLocalMasterKey(keyFile);
 * const keys = await createLocalKeyProvider({ keyFile });
 * const { rewrapped } = await rewrapAllDataKeys({ keys, repository: store });
 */
export async function rewrapAllDataKeys(options: RewrapOptions): Promise<{ rewrapped: number; skipped: number }> {
  const { keys, repository, onProgress } = options ?? ({} as RewrapOptions);
  if (!keys || !repository) throw new TypeError('rewrapAllDataKeys needs keys and repository');
  const records: DataKeyRecord[] = [];
  for (const tenantId of await repository.listTenantsWithDataKeys()) {
    records.push(...(await repository.listDataKeys(tenantId)));
  }
  let rewrapped = 0;
  let skipped = 0;
  for (const [index, record] of records.entries()) {
    const { tenantId, version, masterKeyId } = record;
    if (masterKeyId === keys.currentMasterKeyId()) {
      skipped += 1;
    } else {
      const dataKey = checkedDataKey(await keys.unwrap(record, { tenantId }), tenantId, version);
      const next = await keys.wrap(dataKey, { tenantId });
      if (!timingSafeEqual(await keys.unwrap(next, { tenantId }), dataKey)) {
        throw new AppError('internal', `re-wrapped data key ${version} of tenant ${tenantId} did not round-trip`);
      }
      // An alias can resolve to the very key that already wraps this record.
      const moved =
        next.masterKeyId !== masterKeyId && (await repository.rewrapDataKey(tenantId, version, masterKeyId, next));
      if (moved) rewrapped += 1;
      else skipped += 1;
    }
    onProgress?.(index + 1, records.length);
  }
  return { rewrapped, skipped };
}
