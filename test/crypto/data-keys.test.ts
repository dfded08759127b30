import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { createTenantCipher, rewrapAllDataKeys } from '../../src/crypto/data-keys.ts';
import { type CipherContext, sealedKeyVersion } from '../../src/crypto/envelope.ts';
import type { KeyProvider } from '../../src/crypto/key-provider.ts';
import { createLocalKeyProvider, rotateLocalMasterKey } from '../../src/crypto/local-key-provider.ts';
import { MemoryDataKeyRepository } from './memory-data-keys.ts';

let dir: string;
let keyFile: string;
let clock: FakeClock;
let repository: MemoryDataKeyRepository;

const msg = (tenantId: string, turn = 1): CipherContext => ({
  tenantId,
  conversationId: 'cnv_1',
  field: 'message',
  turn,
});

/** Wraps a provider to count unwraps (each one is a KMS call in production). */
function counting(keys: KeyProvider): KeyProvider & { unwraps: number } {
  const counted = {
    kind: keys.kind,
    unwraps: 0,
    currentMasterKeyId: () => keys.currentMasterKeyId(),
    wrap: keys.wrap,
    unwrap: (key: Parameters<KeyProvider['unwrap']>[0], context: { tenantId: string }) => {
      counted.unwraps += 1;
      return keys.unwrap(key, context);
    },
    probe: keys.probe,
  };
  return counted;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'continuum-dek-'));
  keyFile = join(dir, 'master-keys.json');
  clock = new FakeClock();
  repository = new MemoryDataKeyRepository();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tenant cipher', () => {
  it('creates data key version 1 on first seal and round-trips', async () => {
    const keys = await createLocalKeyProvider({ keyFile });
    const cipher = createTenantCipher({ keys, repository, clock });
    const sealed = await cipher.seal(msg('tnt_a'), 'BP 128/82, on lisinopril');
    expect(sealedKeyVersion(sealed)).toBe(1);
    expect(await cipher.open(msg('tnt_a'), sealed)).toBe('BP 128/82, on lisinopril');
    const [record, ...rest] = repository.all();
    expect(rest).toEqual([]);
    expect(record).toMatchObject({
      tenantId: 'tnt_a',
      version: 1,
      masterKeyId: keys.currentMasterKeyId(),
      createdAt: new Date(clock.now()).toISOString(),
    });
  });

  it('gives each tenant its own key, and a row moved across tenants fails', async () => {
    const cipher = createTenantCipher({ keys: await createLocalKeyProvider({ keyFile }), repository, clock });
    const sealed = await cipher.seal(msg('tnt_a'), 'secret');
    await cipher.seal(msg('tnt_b'), 'other');
    expect(
      repository
        .all()
        .map((row) => row.tenantId)
        .sort(),
    ).toEqual(['tnt_a', 'tnt_b']);
    await expect(cipher.open(msg('tnt_b'), sealed)).rejects.toMatchObject({ code: 'state_corrupt' });
    await expect(cipher.open(msg('tnt_a', 2), sealed)).rejects.toMatchObject({ code: 'state_corrupt' });
  });

  it('unwraps each data key once, and concurrent first seals create one key', async () => {
    const keys = counting(await createLocalKeyProvider({ keyFile }));
    const cipher = createTenantCipher({ keys, repository, clock });
    const sealed = await Promise.all(
      Array.from({ length: 20 }, (_, turn) => cipher.seal(msg('tnt_a', turn), `t${turn}`)),
    );
    expect(repository.calls.insert).toBe(1);
    for (const [turn, value] of sealed.entries()) expect(await cipher.open(msg('tnt_a', turn), value)).toBe(`t${turn}`);
    expect(keys.unwraps).toBe(0);
    const other = createTenantCipher({ keys, repository, clock });
    for (const [turn, value] of sealed.entries()) expect(await other.open(msg('tnt_a', turn), value)).toBe(`t${turn}`);
    expect(keys.unwraps).toBe(1);
  });

  it('two nodes racing to create the first key both end up on the stored one', async () => {
    const keys = await createLocalKeyProvider({ keyFile });
    const nodeA = createTenantCipher({ keys, repository, clock });
    const nodeB = createTenantCipher({ keys, repository, clock });
    const [fromA, fromB] = await Promise.all([nodeA.seal(msg('tnt_a'), 'from A'), nodeB.seal(msg('tnt_a'), 'from B')]);
    expect(repository.calls.insert).toBe(2);
    expect(repository.all()).toHaveLength(1);
    expect(await nodeB.open(msg('tnt_a'), fromA)).toBe('from A');
    expect(await nodeA.open(msg('tnt_a'), fromB)).toBe('from B');
  });

  it('open never creates a key for a tenant that has none', async () => {
    const cipher = createTenantCipher({ keys: await createLocalKeyProvider({ keyFile }), repository, clock });
    const foreign = await createTenantCipher({
      keys: await createLocalKeyProvider({ keyFile }),
      repository: new MemoryDataKeyRepository(),
      clock,
    }).seal(msg('tnt_a'), 'x');
    await expect(cipher.open(msg('tnt_a'), foreign)).rejects.toMatchObject({ code: 'state_corrupt' });
    expect(repository.all()).toEqual([]);
  });

  it('sync variants need ensureLoaded first, then work without I/O', async () => {
    const cipher = createTenantCipher({ keys: await createLocalKeyProvider({ keyFile }), repository, clock });
    expect(() => cipher.sealSync(msg('tnt_a'), 'x')).toThrow(TypeError);
    await cipher.ensureLoaded('tnt_a');
    const lists = repository.calls.list;
    const sealed = cipher.sealSync(msg('tnt_a'), 'hot path');
    expect(cipher.openSync(msg('tnt_a'), sealed)).toBe('hot path');
    expect(await cipher.open(msg('tnt_a'), sealed)).toBe('hot path');
    await cipher.ensureLoaded('tnt_a');
    expect(repository.calls.list).toBe(lists);
    expect(() => cipher.openSync(msg('tnt_b'), sealed)).toThrow(TypeError);
    expect(() => cipher.openSync(msg('tnt_a', 9), sealed)).toThrow(expect.objectContaining({ code: 'state_corrupt' }));
  });

  it('seals with the newest version once the cache expires, and opens every version', async () => {
    const keys = await createLocalKeyProvider({ keyFile });
    const cipher = createTenantCipher({ keys, repository, clock, cacheTtlMs: 1_000 });
    const v1 = await cipher.seal(msg('tnt_a'), 'old');
    // Another node adds version 2 of the tenant's data key.
    const wrapped = await keys.wrap(randomBytes(32), { tenantId: 'tnt_a' });
    await repository.insertDataKey({ tenantId: 'tnt_a', version: 2, ...wrapped, createdAt: '2026-01-01T00:00:00Z' });
    const otherNode = createTenantCipher({ keys, repository, clock });
    const v2 = await otherNode.seal(msg('tnt_a'), 'new');
    expect(sealedKeyVersion(v2)).toBe(2);

    expect(sealedKeyVersion(await cipher.seal(msg('tnt_a'), 'x'))).toBe(1);
    expect(await cipher.open(msg('tnt_a'), v2)).toBe('new');
    clock.advance(1_001);
    expect(sealedKeyVersion(await cipher.seal(msg('tnt_a'), 'x'))).toBe(2);
    expect(await cipher.open(msg('tnt_a'), v1)).toBe('old');
  });

  it('throws TypeError for misuse', async () => {
    const keys = await createLocalKeyProvider({ keyFile });
    expect(() => createTenantCipher({ keys, repository, clock, cacheTtlMs: -1 })).toThrow(TypeError);
    const cipher = createTenantCipher({ keys, repository, clock });
    await expect(cipher.seal({ ...msg('tnt_a'), field: '' }, 'x')).rejects.toThrow(TypeError);
    await expect(cipher.ensureLoaded('')).rejects.toThrow(TypeError);
  });
});

describe('rewrapAllDataKeys', () => {
  it('moves every data key to the new master key; running and fresh ciphers still open old text', async () => {
    const keys = await createLocalKeyProvider({ keyFile });
    const running = createTenantCipher({ keys, repository, clock });
    const sealedA = await running.seal(msg('tnt_a'), 'alpha');
    const sealedB = await running.seal(msg('tnt_b'), 'beta');
    const oldId = keys.currentMasterKeyId();

    const { current } = await rotateLocalMasterKey(keyFile);
    const cli = await createLocalKeyProvider({ keyFile });
    const progress: Array<[number, number]> = [];
    const result = await rewrapAllDataKeys({ keys: cli, repository, onProgress: (d, t) => progress.push([d, t]) });
    expect(result).toEqual({ rewrapped: 2, skipped: 0 });
    expect(progress).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(repository.all().map((row) => row.masterKeyId)).toEqual([current, current]);
    expect(current).not.toBe(oldId);

    // The running node has not reloaded its key file and still works.
    expect(await running.open(msg('tnt_a'), sealedA)).toBe('alpha');
    expect(await running.open(msg('tnt_b'), await running.seal(msg('tnt_b'), 'more'))).toBe('more');

    const fresh = createTenantCipher({ keys: await createLocalKeyProvider({ keyFile }), repository, clock });
    expect(await fresh.open(msg('tnt_a'), sealedA)).toBe('alpha');
    expect(await fresh.open(msg('tnt_b'), sealedB)).toBe('beta');

    expect(await rewrapAllDataKeys({ keys: cli, repository })).toEqual({ rewrapped: 0, skipped: 2 });
  });

  it('running on two nodes at once moves each key exactly once', async () => {
    const keys = await createLocalKeyProvider({ keyFile });
    const cipher = createTenantCipher({ keys, repository, clock });
    const tenants = ['tnt_a', 'tnt_b', 'tnt_c', 'tnt_d'];
    const sealed = await Promise.all(tenants.map((tenant) => cipher.seal(msg(tenant), tenant)));
    await rotateLocalMasterKey(keyFile);
    await keys.reload();
    const [one, two] = await Promise.all([
      rewrapAllDataKeys({ keys, repository }),
      rewrapAllDataKeys({ keys, repository }),
    ]);
    expect(one.rewrapped + two.rewrapped).toBe(tenants.length);
    expect(one.rewrapped + one.skipped).toBe(tenants.length);
    const fresh = createTenantCipher({ keys: await createLocalKeyProvider({ keyFile }), repository, clock });
    for (const [index, tenant] of tenants.entries()) expect(await fresh.open(msg(tenant), sealed[index]!)).toBe(tenant);
  });
});
