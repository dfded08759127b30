/**
 * The local master-key ring and its key file:
 * `{ "current": "<id>", "keys": { "<id>": "<base64 of 32 bytes>" } }`, mode 0600.
 * Writes go through a temp file and a rename (or link, for first creation) so
 * a reader on another process never sees half a file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AppError } from '../errors/index.ts';
import { KEY_BYTES } from './key-provider.ts';

/** Master keys by id, and the id new wraps use. */
export interface Keyring {
  current: string;
  keys: Map<string, Buffer>;
}

// Ids end up in colon-separated AAD strings, so they must not contain colons.
const KEY_ID = /^[A-Za-z0-9_.-]{1,128}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** `mk_` + the first 8 hex chars of SHA-256(key): stable for a key, reveals nothing useful. */
export function masterKeyFingerprint(key: Buffer): string {
  return `mk_${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

/** Decodes base64 of exactly 32 bytes, or returns undefined. */
function decodeKey(text: unknown): Buffer | undefined {
  if (typeof text !== 'string') return undefined;
  const trimmed = text.trim();
  if (!BASE64.test(trimmed)) return undefined;
  const key = Buffer.from(trimmed, 'base64');
  return key.length === KEY_BYTES ? key : undefined;
}

/** A one-key ring from `CONTINUUM_MASTER_KEY` (base64 of 32 bytes). */
export function keyringFromMasterKey(masterKey: string): Keyring {
  const key = decodeKey(masterKey);
  if (!key) {
    throw new TypeError(
      'CONTINUUM_MASTER_KEY must be the base64 of exactly 32 random bytes (make one with: openssl rand -base64 32)',
    );
  }
  const id = masterKeyFingerprint(key);
  return { current: id, keys: new Map([[id, key]]) };
}

function parseKeyring(text: string, path: string): Keyring {
  const bad = (why: string): AppError =>
    new AppError('state_corrupt', `key file ${path} is not a valid keyring: ${why}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new AppError('state_corrupt', `key file ${path} is not valid JSON`, { cause });
  }
  if (typeof raw !== 'object' || raw === null) throw bad('expected an object');
  const { current, keys } = raw as { current?: unknown; keys?: unknown };
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) throw bad('`keys` must be an object');
  const ring = new Map<string, Buffer>();
  for (const [id, encoded] of Object.entries(keys)) {
    if (!KEY_ID.test(id)) throw bad(`key id ${JSON.stringify(id)} may only use letters, digits, _ . -`);
    const key = decodeKey(encoded);
    if (!key) throw bad(`key ${id} is not base64 of ${KEY_BYTES} bytes`);
    ring.set(id, key);
  }
  if (typeof current !== 'string' || !ring.has(current)) throw bad('`current` must name one of `keys`');
  return { current, keys: ring };
}

function serializeKeyring(ring: Keyring): string {
  const keys = Object.fromEntries([...ring.keys].map(([id, key]) => [id, key.toString('base64')]));
  return `${JSON.stringify({ current: ring.current, keys }, null, 2)}\n`;
}

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === code;
}

/** Refuses a key file that group or others may read or write. */
async function assertPrivate(path: string): Promise<void> {
  const info = await stat(path);
  if (!info.isFile()) throw new AppError('internal', `key file ${path} is not a regular file`);
  // Windows has no POSIX mode bits worth checking.
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
    throw new AppError(
      'internal',
      `key file ${path} has mode ${mode}: group/others may access the master keys. Fix it with: chmod 600 ${path}`,
    );
  }
}

/** Writes `text` to a new 0600 temp file beside `path`, flushed to disk; returns its path. */
async function writeTemp(path: string, text: string): Promise<string> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: some platforms cannot fsync a directory.
  }
}

/** Reads and validates the key file; refuses it if its mode is not private. */
export async function readKeyFile(path: string): Promise<Keyring> {
  await assertPrivate(path);
  return parseKeyring(await readFile(path, 'utf8'), path);
}

function newMasterKey(taken: ReadonlyMap<string, Buffer>): { id: string; key: Buffer } {
  for (;;) {
    const key = randomBytes(KEY_BYTES);
    const id = masterKeyFingerprint(key);
    if (!taken.has(id)) return { id, key };
  }
}

/**
 * Reads the key file, or creates it (and its parent directory, mode 0700)
 * with one fresh master key if absent. Safe against another process creating
 * it at the same moment: the loser reads the winner's file.
 */
export async function loadOrCreateKeyFile(path: string): Promise<Keyring> {
  try {
    return await readKeyFile(path);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const { id, key } = newMasterKey(new Map());
  const ring: Keyring = { current: id, keys: new Map([[id, key]]) };
  const temp = await writeTemp(path, serializeKeyring(ring));
  try {
    await link(temp, path);
    await syncDir(dirname(path));
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
    return readKeyFile(path);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  return ring;
}

/**
 * Adds a new random master key to the key file and makes it current, keeping
 * the old keys so data keys they wrapped still unwrap. The file is replaced
 * atomically (temp file + rename, mode 0600); a lock file beside it keeps two
 * rotations from losing each other's key. Running servers notice the new key
 * on `reload()`, or on their own when they meet a wrap under it.
 *
 * @example
 * const { previous, current } = await rotateLocalMasterKey('/var/lib/continuum/master-keys.json');
 */
export async function rotateLocalMasterKey(keyFile: string): Promise<{ previous: string; current: string }> {
  if (typeof keyFile !== 'string' || keyFile.length === 0) {
    throw new TypeError('rotateLocalMasterKey needs the path of the key file');
  }
  try {
    await stat(keyFile);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) {
      throw new TypeError(`rotateLocalMasterKey: there is no key file at ${keyFile} (check the path)`);
    }
    throw error;
  }
  const lockPath = `${keyFile}.lock`;
  let lock: Awaited<ReturnType<typeof open>>;
  try {
    lock = await open(lockPath, 'wx', 0o600);
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
    throw new AppError(
      'internal',
      `another key rotation holds ${lockPath}; if none is running, delete that file and retry`,
    );
  }
  try {
    const ring = await readKeyFile(keyFile);
    const previous = ring.current;
    const { id, key } = newMasterKey(ring.keys);
    ring.keys.set(id, key);
    ring.current = id;
    const temp = await writeTemp(keyFile, serializeKeyring(ring));
    try {
      await rename(temp, keyFile);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await syncDir(dirname(keyFile));
    return { previous, current: id };
  } finally {
    await lock.close();
    await unlink(lockPath).catch(() => undefined);
  }
}
