import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalKeyProvider, rotateLocalMasterKey } from '../../src/crypto/local-key-provider.ts';
import { AppError } from '../../src/errors/index.ts';

let dir: string;
let keyFile: string;
const tenant = { tenantId: 'tnt_a' };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'continuum-keys-'));
  keyFile = join(dir, 'nested', 'master-keys.json');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;
const readRing = async (): Promise<{ current: string; keys: Record<string, string> }> =>
  JSON.parse(await readFile(keyFile, 'utf8'));

describe('local key file', () => {
  it('is created on first use with mode 0600 inside a new 0700 directory', async () => {
    const keys = await createLocalKeyProvider({ keyFile });
    expect(await mode(keyFile)).toBe(0o600);
    expect(await mode(join(dir, 'nested'))).toBe(0o700);
    const ring = await readRing();
    expect(ring.current).toBe(keys.currentMasterKeyId());
    expect(ring.current).toMatch(/^mk_[0-9a-f]{8}$/);
    expect(Buffer.from(ring.keys[ring.current]!, 'base64')).toHaveLength(32);
  });

  it('is reused, not replaced, by the next boot', async () => {
    const first = await createLocalKeyProvider({ keyFile });
    const wrapped = await first.wrap(randomBytes(32), tenant);
    const second = await createLocalKeyProvider({ keyFile });
    expect(second.currentMasterKeyId()).toBe(first.currentMasterKeyId());
    await expect(second.unwrap(wrapped, tenant)).resolves.toHaveLength(32);
  });

  it('two processes creating it at once end up on the same key', async () => {
    const [a, b] = await Promise.all([createLocalKeyProvider({ keyFile }), createLocalKeyProvider({ keyFile })]);
    expect(a.currentMasterKeyId()).toBe(b.currentMasterKeyId());
  });

  it('is refused at boot when group or others can read it, saying to chmod 600', async () => {
    await createLocalKeyProvider({ keyFile });
    await chmod(keyFile, 0o644);
    const failure = createLocalKeyProvider({ keyFile });
    await expect(failure).rejects.toBeInstanceOf(AppError);
    await expect(createLocalKeyProvider({ keyFile })).rejects.toThrow(`chmod 600 ${keyFile}`);
    await chmod(keyFile, 0o600);
    await expect(createLocalKeyProvider({ keyFile })).resolves.toBeDefined();
  });

  it('is refused when malformed', async () => {
    await createLocalKeyProvider({ keyFile });
    await writeFile(keyFile, JSON.stringify({ current: 'mk_x', keys: { mk_y: randomBytes(32).toString('base64') } }));
    await expect(createLocalKeyProvider({ keyFile })).rejects.toMatchObject({ code: 'state_corrupt' });
    await writeFile(keyFile, JSON.stringify({ current: 'mk_y', keys: { mk_y: randomBytes(16).toString('base64') } }));
    await expect(createLocalKeyProvider({ keyFile })).rejects.toThrow(/not base64 of 32 bytes/);
    await writeFile(keyFile, '{');
    await expect(createLocalKeyProvider({ keyFile })).rejects.toThrow(/not valid JSON/);
  });
});

describe('local key provider wrapping', () => {
  it('round-trips a data key and labels the wrap with the current master key', async () => {
    const keys = await createLocalKeyProvider({ keyFile });
    const dataKey = randomBytes(32);
    const wrapped = await keys.wrap(dataKey, tenant);
    expect(wrapped.masterKeyId).toBe(keys.currentMasterKeyId());
    expect(wrapped.wrapped).toHaveLength(12 + 16 + 32);
    expect(wrapped.wrapped.includes(dataKey)).toBe(false);
    expect((await keys.unwrap(wrapped, tenant)).equals(dataKey)).toBe(true);
    await expect(keys.probe()).resolves.toBeUndefined();
  });

  it('refuses to unwrap a key copied to another tenant, or altered', async () => {
    const keys = await createLocalKeyProvider({ keyFile });
    const wrapped = await keys.wrap(randomBytes(32), tenant);
    await expect(keys.unwrap(wrapped, { tenantId: 'tnt_b' })).rejects.toMatchObject({ code: 'state_corrupt' });
    for (const index of [0, 13, 40, 59]) {
      const tampered = Buffer.from(wrapped.wrapped);
      tampered[index] = tampered[index]! ^ 0x80;
      await expect(keys.unwrap({ ...wrapped, wrapped: tampered }, tenant)).rejects.toMatchObject({
        code: 'state_corrupt',
      });
    }
  });

  it('binds the master key id: the same key filed under another id does not unwrap', async () => {
    const shared = randomBytes(32).toString('base64');
    await createLocalKeyProvider({ keyFile });
    await writeFile(keyFile, JSON.stringify({ current: 'mk_a', keys: { mk_a: shared, mk_b: shared } }));
    const keys = await createLocalKeyProvider({ keyFile });
    const wrapped = await keys.wrap(randomBytes(32), tenant);
    await expect(keys.unwrap(wrapped, tenant)).resolves.toHaveLength(32);
    await expect(keys.unwrap({ ...wrapped, masterKeyId: 'mk_b' }, tenant)).rejects.toMatchObject({
      code: 'state_corrupt',
    });
  });

  it('throws TypeError for misuse', async () => {
    const keys = await createLocalKeyProvider({ keyFile });
    await expect(keys.wrap(randomBytes(16), tenant)).rejects.toThrow(TypeError);
    await expect(keys.wrap(randomBytes(32), { tenantId: '' })).rejects.toThrow(TypeError);
    await expect(createLocalKeyProvider({})).rejects.toThrow(TypeError);
    const masterKey = randomBytes(32).toString('base64');
    await expect(createLocalKeyProvider({ keyFile, masterKey })).rejects.toThrow(/exactly one/);
  });
});

describe('master key from the environment', () => {
  it('is a one-key ring named by its SHA-256 fingerprint', async () => {
    const raw = randomBytes(32);
    const keys = await createLocalKeyProvider({ masterKey: raw.toString('base64') });
    const fingerprint = createHash('sha256').update(raw).digest('hex').slice(0, 8);
    expect(keys.currentMasterKeyId()).toBe(`mk_${fingerprint}`);
    expect(keys.keyFile).toBeUndefined();
    const other = await createLocalKeyProvider({ masterKey: raw.toString('base64') });
    const dataKey = randomBytes(32);
    expect((await other.unwrap(await keys.wrap(dataKey, tenant), tenant)).equals(dataKey)).toBe(true);
  });

  it('must be base64 of 32 bytes, and the message says how to make one', async () => {
    await expect(createLocalKeyProvider({ masterKey: randomBytes(16).toString('base64') })).rejects.toThrow(
      /openssl rand -base64 32/,
    );
    await expect(createLocalKeyProvider({ masterKey: 'not base64!' })).rejects.toThrow(TypeError);
  });

  it('cannot unwrap what another master key wrapped', async () => {
    const a = await createLocalKeyProvider({ masterKey: randomBytes(32).toString('base64') });
    const b = await createLocalKeyProvider({ masterKey: randomBytes(32).toString('base64') });
    const wrapped = await a.wrap(randomBytes(32), tenant);
    await expect(b.unwrap(wrapped, tenant)).rejects.toThrow(/not in CONTINUUM_MASTER_KEY/);
  });
});

describe('master key rotation', () => {
  it('adds a new current key, keeps the old ones, and old wraps still unwrap', async () => {
    const keys = await createLocalKeyProvider({ keyFile });
    const before = keys.currentMasterKeyId();
    const dataKey = randomBytes(32);
    const oldWrap = await keys.wrap(dataKey, tenant);

    const { previous, current } = await rotateLocalMasterKey(keyFile);
    expect(previous).toBe(before);
    expect(current).not.toBe(before);
    expect(await mode(keyFile)).toBe(0o600);
    const ring = await readRing();
    expect(ring.current).toBe(current);
    expect(Object.keys(ring.keys).sort()).toEqual([before, current].sort());

    await keys.reload();
    expect(keys.currentMasterKeyId()).toBe(current);
    const newWrap = await keys.wrap(dataKey, tenant);
    expect(newWrap.masterKeyId).toBe(current);
    expect((await keys.unwrap(oldWrap, tenant)).equals(dataKey)).toBe(true);
    expect((await keys.unwrap(newWrap, tenant)).equals(dataKey)).toBe(true);
  });

  it('is noticed without reload() when a wrap under the new key turns up', async () => {
    const running = await createLocalKeyProvider({ keyFile });
    const before = running.currentMasterKeyId();
    // Another process rewrites the file: the test writes it by hand.
    const ring = await readRing();
    const newKey = randomBytes(32);
    ring.keys['mk_other01'] = newKey.toString('base64');
    ring.current = 'mk_other01';
    await writeFile(keyFile, JSON.stringify(ring), { mode: 0o600 });
    const elsewhere = await createLocalKeyProvider({ keyFile });
    const dataKey = randomBytes(32);
    const wrapped = await elsewhere.wrap(dataKey, tenant);
    expect(wrapped.masterKeyId).toBe('mk_other01');

    expect(running.currentMasterKeyId()).toBe(before);
    expect((await running.unwrap(wrapped, tenant)).equals(dataKey)).toBe(true);
    expect(running.currentMasterKeyId()).toBe('mk_other01');
  });

  it('fails with state_corrupt when the key is missing even after a reload', async () => {
    const keys = await createLocalKeyProvider({ keyFile });
    const wrapped = await keys.wrap(randomBytes(32), tenant);
    await expect(keys.unwrap({ ...wrapped, masterKeyId: 'mk_gone0000' }, tenant)).rejects.toThrow(
      /mk_gone0000, which is not in the key file/,
    );
  });

  it('refuses a missing file and a rotation already in progress', async () => {
    await expect(rotateLocalMasterKey(join(dir, 'nope.json'))).rejects.toThrow(TypeError);
    await createLocalKeyProvider({ keyFile });
    await writeFile(`${keyFile}.lock`, '');
    await expect(rotateLocalMasterKey(keyFile)).rejects.toThrow(/another key rotation holds/);
    await rm(`${keyFile}.lock`);
    await expect(rotateLocalMasterKey(keyFile)).resolves.toMatchObject({ current: expect.stringMatching(/^mk_/) });
  });

  it('refuses to rotate a file others can read', async () => {
    await createLocalKeyProvider({ keyFile });
    await chmod(keyFile, 0o640);
    await expect(rotateLocalMasterKey(keyFile)).rejects.toThrow(/chmod 600/);
  });
});
