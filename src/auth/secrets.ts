import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { base32 } from '../conversations/session-id.ts';
import { asTenantId, type TenantId } from '../core/types.ts';

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

/** A random id with a readable prefix, e.g. `tnt_…`. */
export const randomId = (prefix: string, bytes = 10): string => `${prefix}_${base32(randomBytes(bytes))}`;

const TENANT_ID = /^tnt_[a-z2-7]{16}$/;

export const isTenantId = (value: string): value is TenantId => TENANT_ID.test(value);

/**
 * Opaque bearer secrets that name their tenant: `<kind>.<tenant id>.<secret>`.
 * The tenant part only routes the lookup (every store call is tenant-scoped);
 * the secret part carries 256 bits and is stored only as a SHA-256 hash.
 */
export function mintSecret(kind: 'ck' | 'crt', tenantId: TenantId): string {
  return `${kind}.${tenantId}.${randomBytes(32).toString('base64url')}`;
}

export function parseSecret(kind: 'ck' | 'crt', value: string): { tenantId: TenantId; hash: string } | null {
  const parts = value.split('.');
  if (parts.length !== 3 || parts[0] !== kind || !isTenantId(parts[1]!) || !/^[A-Za-z0-9_-]{43}$/.test(parts[2]!)) {
    return null;
  }
  return { tenantId: asTenantId(parts[1]!), hash: sha256Hex(value) };
}

/** Compare two secrets in constant time (by their hashes, so lengths may differ). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
