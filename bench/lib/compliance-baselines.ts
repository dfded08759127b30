/**
 * The "off" side of bench/compliance-cost.ts: a cipher that does not encrypt
 * and an audit trail that writes nothing.
 *
 * BENCHMARK BASELINES ONLY. They exist to measure what encryption at rest
 * (ADR-008) and the audit trail (ADR-007) cost, by taking them out; they
 * break both guarantees and must never ship, be exported from src/, or be
 * wired into a server anyone uses.
 */
import { AuditTrail } from '../../src/audit/audit-trail.ts';
import type { AuditCheckpoint } from '../../src/audit/checkpoint.ts';
import type { AuditEventInput } from '../../src/audit/event.ts';
import type { TenantId } from '../../src/core/types.ts';
import type { TenantCipher } from '../../src/crypto/data-keys.ts';
import type { CipherContext } from '../../src/crypto/envelope.ts';
import type { AuditBatch } from '../../src/store/port.ts';

/** "Seals" text as its plain UTF-8 bytes: no key, no IV, no tag, no associated data. Never ship. */
export function createPlaintextCipher(): TenantCipher {
  const sealSync = (_ctx: CipherContext, plaintext: string): Buffer => Buffer.from(plaintext, 'utf8');
  const openSync = (_ctx: CipherContext, sealed: Buffer): string => sealed.toString('utf8');
  return {
    sealSync,
    openSync,
    async ensureLoaded() {},
    async seal(ctx, plaintext) {
      return sealSync(ctx, plaintext);
    },
    async open(ctx, sealed) {
      return openSync(ctx, sealed);
    },
  };
}

/**
 * An audit trail that records nothing: store transactions get an empty event
 * list, standalone events are dropped, no checkpoint is signed. (The SQLite
 * adapter still reads the chain head once per audited write, even for an
 * empty list; that read stays in the "off" figures.) Never ship.
 */
export class SilentAuditTrail extends AuditTrail {
  override batch<O>(_tenantId: TenantId, _events: (outcome: O) => AuditEventInput[]): AuditBatch<O> {
    return { at: new Date(), events: () => [] };
  }

  override async record(_tenantId: TenantId, _events: AuditEventInput[]): Promise<void> {}

  override async checkpoint(_tenantId: TenantId): Promise<AuditCheckpoint | null> {
    return null;
  }
}
