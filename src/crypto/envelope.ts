/**
 * The data cipher (ADR-008): AES-256-GCM under a tenant's data key, with the
 * tenant, conversation, field and turn bound in as associated data so a
 * ciphertext moved to another row fails instead of showing another patient's
 * text.
 *
 * Sealed layout: version (1 byte, = 1) ‖ data-key version (uint32 BE) ‖
 * IV (12) ‖ tag (16) ‖ ciphertext.
 */
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { AppError } from '../errors/index.ts';
import { assertKeyBytes } from './key-provider.ts';

/** Where a ciphertext belongs. Every member is bound into the AAD. */
export interface CipherContext {
  tenantId: string;
  conversationId: string;
  /** What the text is, e.g. `message`, `summary`, `profile`. */
  field: string;
  /** The turn the text belongs to; omit for per-conversation fields (summary, profile). */
  turn?: number;
}

const FORMAT_VERSION = 1;
const HEADER_BYTES = 1 + 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Smallest sealed value: header, IV and tag around an empty plaintext. */
export const SEALED_OVERHEAD = HEADER_BYTES + IV_BYTES + TAG_BYTES;
const MAX_KEY_VERSION = 0xffff_ffff;

// IVs are cut from a pool of CSPRNG bytes refilled 4 KiB at a time: one call into the generator per 341 IVs
// instead of one per seal (every turn, event and state written is sealed). Each slice is used once.
const ivPool = Buffer.alloc(IV_BYTES * 341);
let ivOffset = ivPool.length;

/** A fresh random IV (a copy: the pool's bytes are overwritten on refill). */
function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = Buffer.from(ivPool.subarray(ivOffset, ivOffset + IV_BYTES));
  // Never left in the pool to be handed out again.
  ivPool.fill(0, ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Throws `TypeError` unless `ctx` is a well-formed CipherContext. */
export function assertCipherContext(ctx: unknown): asserts ctx is CipherContext {
  const c = ctx as Partial<CipherContext> | null | undefined;
  if (!nonEmpty(c?.tenantId) || !nonEmpty(c.conversationId) || !nonEmpty(c.field)) {
    throw new TypeError('CipherContext needs non-empty tenantId, conversationId and field');
  }
  if (c.turn !== undefined && (!Number.isSafeInteger(c.turn) || c.turn < 0)) {
    throw new TypeError('CipherContext.turn must be a non-negative integer when given');
  }
}

// Header ‖ `canonicalJson({ v: 1, tenant, conversation, field, turn })`. The header is authenticated too, so a
// flipped key-version byte fails like any other tampering instead of being silently ignored. The JSON is written
// out with its keys in canonicalJson's order: every seal and open makes it, and the generic walk sorts and copies.
function aad(header: Buffer, ctx: CipherContext): Buffer {
  const context =
    `{"conversation":${JSON.stringify(ctx.conversationId)},"field":${JSON.stringify(ctx.field)},` +
    `"tenant":${JSON.stringify(ctx.tenantId)},${ctx.turn === undefined ? '' : `"turn":${ctx.turn},`}"v":1}`;
  const out = Buffer.allocUnsafe(header.length + Buffer.byteLength(context, 'utf8'));
  header.copy(out, 0);
  out.write(context, header.length, 'utf8');
  return out;
}

function notHere(cause?: unknown): AppError {
  return new AppError('state_corrupt', 'ciphertext does not belong here', cause === undefined ? {} : { cause });
}

/**
 * Encrypts `plaintext` for the place `ctx` names, under data key `key`
 * (32 bytes) whose version `keyVersion` is written into the header.
 */
export function sealWithKey(key: Buffer, keyVersion: number, ctx: CipherContext, plaintext: string): Buffer {
  assertKeyBytes(key, 'data key');
  if (!Number.isInteger(keyVersion) || keyVersion < 1 || keyVersion > MAX_KEY_VERSION) {
    throw new TypeError('keyVersion must be an integer from 1 to 2^32 - 1');
  }
  assertCipherContext(ctx);
  if (typeof plaintext !== 'string') throw new TypeError('plaintext must be a string');
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(FORMAT_VERSION, 0);
  header.writeUInt32BE(keyVersion, 1);
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(header, ctx));
  const body = cipher.update(plaintext, 'utf8');
  const last = cipher.final();
  return Buffer.concat([header, iv, cipher.getAuthTag(), body, last]);
}

/**
 * The data-key version a sealed value was made with (to pick the key).
 * Throws `AppError('state_corrupt')` if `sealed` is not a sealed value.
 */
export function sealedKeyVersion(sealed: Buffer): number {
  if (!Buffer.isBuffer(sealed)) throw new TypeError('sealed must be a Buffer');
  if (sealed.length < SEALED_OVERHEAD) {
    throw new AppError('state_corrupt', 'ciphertext is truncated');
  }
  if (sealed[0] !== FORMAT_VERSION) {
    throw new AppError('state_corrupt', `ciphertext has unknown format version ${sealed[0]}`);
  }
  return sealed.readUInt32BE(1);
}

/**
 * Decrypts a value sealed by `sealWithKey` for the same `ctx`. Any other
 * tenant, conversation, field or turn, any altered byte, or the wrong key
 * throws `AppError('state_corrupt')`; it never returns other text.
 */
export function openWithKey(key: Buffer, ctx: CipherContext, sealed: Buffer): string {
  assertKeyBytes(key, 'data key');
  assertCipherContext(ctx);
  sealedKeyVersion(sealed);
  const header = sealed.subarray(0, HEADER_BYTES);
  const iv = sealed.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
  const tag = sealed.subarray(HEADER_BYTES + IV_BYTES, SEALED_OVERHEAD);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(header, ctx));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(SEALED_OVERHEAD)), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw notHere(cause);
  }
}
