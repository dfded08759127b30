import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type AuditCheckpoint, signCheckpoint, verifyCheckpointSignature } from '../../src/audit/checkpoint.ts';
import { canonicalJson } from '../../src/core/canonical-json.ts';
import { buildChain, lookup, makeKey, minutes, TENANT } from './fixtures.ts';

const key = makeKey('audit-1');
const head = buildChain(3)[2]!;

describe('signCheckpoint', () => {
  it('signs canonicalJson({tenantId, seq, hash, at, kid}) with Ed25519, base64url', () => {
    const cp = signCheckpoint(head, minutes(100), key);
    expect(cp).toMatchObject({
      tenantId: TENANT,
      seq: 3,
      hash: head.hash,
      at: '2026-01-01T09:40:00.000Z',
      kid: 'audit-1',
    });
    expect(cp.signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    const payload = canonicalJson({ tenantId: cp.tenantId, seq: cp.seq, hash: cp.hash, at: cp.at, kid: cp.kid });
    expect(verify(null, Buffer.from(payload), key.publicKey, Buffer.from(cp.signature, 'base64url'))).toBe(true);
    expect(Object.keys(cp).sort()).toEqual(['at', 'hash', 'kid', 'seq', 'signature', 'tenantId']);
  });

  it('refuses a key that is not an Ed25519 private key, and an empty head', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => signCheckpoint(head, minutes(1), { kid: 'k', privateKey: ec.privateKey })).toThrow(TypeError);
    expect(() => signCheckpoint(head, minutes(1), { kid: 'k', privateKey: key.publicKey })).toThrow(TypeError);
    expect(() => signCheckpoint(head, minutes(1), { kid: '', privateKey: key.privateKey })).toThrow(TypeError);
    expect(() => signCheckpoint({ ...head, seq: 0 }, minutes(1), key)).toThrow(TypeError);
    expect(() => signCheckpoint({ ...head, hash: 'abc' }, minutes(1), key)).toThrow(TypeError);
    expect(() => signCheckpoint(head, new Date(Number.NaN), key)).toThrow(TypeError);
  });
});

describe('verifyCheckpointSignature', () => {
  const cp = signCheckpoint(head, minutes(100), key);

  it('accepts a checkpoint signed by the key its kid names', () => {
    expect(verifyCheckpointSignature(cp, lookup(key))).toBe(true);
  });

  it('rejects any edited field', () => {
    const edits: Partial<AuditCheckpoint>[] = [
      { tenantId: 'tnt_other' },
      { seq: 4 },
      { hash: 'f'.repeat(64) },
      { at: '2026-01-01T09:40:00.001Z' },
    ];
    for (const edit of edits) expect(verifyCheckpointSignature({ ...cp, ...edit }, lookup(key))).toBe(false);
  });

  it('rejects an unknown kid, the wrong key, a non-Ed25519 key and a malformed signature', () => {
    const other = makeKey('audit-1');
    expect(verifyCheckpointSignature(cp, () => undefined)).toBe(false);
    expect(verifyCheckpointSignature({ ...cp, kid: 'audit-2' }, lookup(key))).toBe(false);
    expect(verifyCheckpointSignature(cp, lookup(other))).toBe(false);
    expect(verifyCheckpointSignature(cp, () => generateKeyPairSync('x25519').publicKey)).toBe(false);
    expect(verifyCheckpointSignature({ ...cp, signature: 'not a signature' }, lookup(key))).toBe(false);
    expect(verifyCheckpointSignature({ ...cp, signature: cp.signature.slice(0, 40) }, lookup(key))).toBe(false);
  });

  it('accepts checkpoints of rotated keys while both public keys are known', () => {
    const next = makeKey('audit-2');
    const later = signCheckpoint(head, minutes(200), next);
    expect(verifyCheckpointSignature(cp, lookup(key, next))).toBe(true);
    expect(verifyCheckpointSignature(later, lookup(key, next))).toBe(true);
    expect(verifyCheckpointSignature(later, lookup(key))).toBe(false);
  });
});
