import { type KeyObject, sign, verify } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.ts';

/**
 * A signed statement "the chain of `tenantId` had `seq` events, the last
 * hashing to `hash`, at `at`". Deleting the chain's tail leaves the rows
 * consistent; a checkpoint past the new end makes the cut visible.
 */
export interface AuditCheckpoint {
  tenantId: string;
  seq: number;
  hash: string;
  /** ISO 8601 UTC. */
  at: string;
  /** Which signing key; looked up through a {@link PublicKeyLookup}. */
  kid: string;
  /** base64url Ed25519 signature over `canonicalJson({ tenantId, seq, hash, at, kid })`. */
  signature: string;
}

/** An Ed25519 private key and its id. */
export interface CheckpointSigningKey {
  kid: string;
  privateKey: KeyObject;
}

/** Finds the Ed25519 public key for a `kid`; `undefined` when unknown (the checkpoint then fails). */
export type PublicKeyLookup = (kid: string) => KeyObject | undefined;

const HEX64 = /^[0-9a-f]{64}$/;
const ED25519_SIGNATURE_BYTES = 64;

/**
 * Signs the current head of a tenant's chain. Throws `TypeError` when the head
 * is malformed or the key is not an Ed25519 private key.
 *
 * @example
 * const { privateKey, publicKey } = generateKeyPairSync('ed25519');
 * const cp = signCheckpoint({ tenantId, seq: last.seq, hash: last.hash }, new Date(clock.now()), { kid: 'audit-1', privateKey });
 * verifyCheckpointSignature(cp, (kid) => (kid === 'audit-1' ? publicKey : undefined)); // true
 */
export function signCheckpoint(
  head: { tenantId: string; seq: number; hash: string },
  at: Date,
  key: CheckpointSigningKey,
): AuditCheckpoint {
  if (typeof head?.tenantId !== 'string' || head.tenantId.length === 0) {
    throw new TypeError('signCheckpoint: head.tenantId must be a non-empty string');
  }
  if (!Number.isSafeInteger(head.seq) || head.seq < 1) {
    throw new TypeError('signCheckpoint: head.seq must be a positive integer (an empty chain has nothing to sign)');
  }
  if (typeof head.hash !== 'string' || !HEX64.test(head.hash)) {
    throw new TypeError('signCheckpoint: head.hash must be 64 lowercase hex characters');
  }
  if (!(at instanceof Date) || Number.isNaN(at.getTime()))
    throw new TypeError('signCheckpoint: at must be a valid Date');
  if (typeof key?.kid !== 'string' || key.kid.length === 0) {
    throw new TypeError('signCheckpoint: key.kid must be a non-empty string');
  }
  const privateKey = key.privateKey;
  if (
    typeof privateKey !== 'object' ||
    privateKey === null ||
    privateKey.type !== 'private' ||
    privateKey.asymmetricKeyType !== 'ed25519'
  ) {
    throw new TypeError(
      "signCheckpoint: key.privateKey must be an Ed25519 private KeyObject (generateKeyPairSync('ed25519'))",
    );
  }
  const unsigned = { tenantId: head.tenantId, seq: head.seq, hash: head.hash, at: at.toISOString(), kid: key.kid };
  const signature = sign(null, Buffer.from(checkpointPayload(unsigned), 'utf8'), privateKey).toString('base64url');
  return { ...unsigned, signature };
}

/**
 * True when `cp` was signed by the key its `kid` names. Never throws for bad
 * data: an unknown kid, a non-Ed25519 key or a malformed signature is `false`.
 */
export function verifyCheckpointSignature(cp: AuditCheckpoint, publicKeys: PublicKeyLookup): boolean {
  if (typeof publicKeys !== 'function') throw new TypeError('verifyCheckpointSignature: publicKeys must be a function');
  if (typeof cp !== 'object' || cp === null || typeof cp.kid !== 'string' || typeof cp.signature !== 'string') {
    return false;
  }
  const key = publicKeys(cp.kid);
  if (key === undefined || key.asymmetricKeyType !== 'ed25519') return false;
  const signature = Buffer.from(cp.signature, 'base64url');
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    return verify(null, Buffer.from(checkpointPayload(cp), 'utf8'), key, signature);
  } catch {
    // A payload with no JSON form (e.g. bigint seq) cannot carry a valid signature.
    return false;
  }
}

/** The exact bytes a checkpoint signature covers (UTF-8 of this string). */
export function checkpointPayload(cp: Omit<AuditCheckpoint, 'signature'>): string {
  return canonicalJson({ tenantId: cp.tenantId, seq: cp.seq, hash: cp.hash, at: cp.at, kid: cp.kid });
}
