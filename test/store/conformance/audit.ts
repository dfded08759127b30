import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventHash } from '../../../src/audit/chain.ts';
import { signCheckpoint, verifyCheckpointSignature } from '../../../src/audit/checkpoint.ts';
import { GENESIS_HASH } from '../../../src/audit/event.ts';
import type { AppendOutcome, AuditBatch, ConversationRecord } from '../../../src/store/port.ts';
import {
  allAuditEvents,
  appendRequest,
  conversationIn,
  freshTenant,
  markerEvent,
  newConversation,
  recorder,
  T0,
  verifyAudit,
} from '../fixtures.ts';
import { apiKeyRecord, tenantRecord } from './credentials.ts';
import type { SuiteContext } from './suite-context.ts';

/** The audit chain: atomic batches, contiguous seqs, concurrent writers, checkpoints, tamper refusal. */
export function auditTests(ctx: SuiteContext): void {
  describe('audit chain', () => {
    it('appendAudit seals events after the head: seq from 1, linked hashes, stored exactly as sealed', async () => {
      const tenantId = freshTenant();
      expect(await ctx.store.auditHead(tenantId)).toBeNull();
      const at = new Date(T0 + 1234);
      const head = await ctx.store.appendAudit(
        tenantId,
        [
          markerEvent('r1'),
          { ...markerEvent('r2'), actor: { kind: 'subject', tenantId, subject: 's', tokenId: 't', ip: '203.0.113.7' } },
        ],
        at,
      );
      const events = await allAuditEvents(ctx.other, tenantId);
      expect(events.map((e) => e.seq)).toEqual([1, 2]);
      expect(events[0]).toMatchObject({
        tenantId,
        at: at.toISOString(),
        prevHash: GENESIS_HASH,
        resource: { id: 'r1' },
      });
      expect(events[1]?.prevHash).toBe(events[0]?.hash);
      expect(events[1]?.actor).toEqual({ kind: 'subject', tenantId, subject: 's', tokenId: 't', ip: '203.0.113.7' });
      for (const event of events) expect(eventHash(event)).toBe(event.hash);
      expect(head).toEqual({ seq: 2, hash: events[1]?.hash });
      expect(await ctx.other.auditHead(tenantId)).toEqual(head);
      expect(await ctx.store.listAuditTenants()).toContain(tenantId);

      expect(await ctx.store.appendAudit(tenantId, [], at)).toEqual(head);
      expect(await ctx.store.appendAudit(freshTenant(), [], at)).toBeNull();
    });

    it('lists after a seq, at most limit, and narrows to one resource', async () => {
      const tenantId = freshTenant();
      for (let i = 0; i < 6; i++)
        await ctx.store.appendAudit(tenantId, [markerEvent(i % 2 ? 'odd' : 'even')], new Date(T0));
      const page = await ctx.store.listAuditEvents(tenantId, { afterSeq: 2, limit: 3 });
      expect(page.map((e) => e.seq)).toEqual([3, 4, 5]);
      const odd = await ctx.other.listAuditEvents(tenantId, { afterSeq: 0, limit: 10, resourceId: 'odd' });
      expect(odd.map((e) => e.seq)).toEqual([2, 4, 6]);
      const later = await ctx.other.listAuditEvents(tenantId, { afterSeq: 2, limit: 1, resourceId: 'odd' });
      expect(later.map((e) => e.seq)).toEqual([4]);
    });

    it('concurrent appendAudit from two clients keeps one contiguous, correctly linked chain', async () => {
      const tenantId = freshTenant();
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          (i % 2 ? ctx.other : ctx.store).appendAudit(
            tenantId,
            Array.from({ length: (i % 3) + 1 }, (_, j) => markerEvent(`w${i}`, `e${j}`)),
            new Date(T0 + i),
          ),
        ),
      );
      const events = await allAuditEvents(ctx.store, tenantId);
      expect(events).toHaveLength(60);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(await verifyAudit(ctx.other, tenantId)).toEqual({ ok: true, checked: 60 });
      // One call's events stay together and in order.
      const w5 = events.filter((e) => e.resource.id === 'w5');
      expect(w5.map((e) => e.detail?.note)).toEqual(['e0', 'e1', 'e2']);
      expect(w5[2]!.seq - w5[0]!.seq).toBe(2);
    });

    it("a mutating call's batch is written with its change, after the change's outcome is known", async () => {
      const tenantId = freshTenant();
      const conversation = await conversationIn(ctx.store, tenantId);
      await ctx.store.appendAudit(tenantId, [markerEvent('before')], new Date(T0));
      const audit = recorder<ConversationRecord | null>();
      const closed = await ctx.other.closeConversation(
        tenantId,
        conversation.id,
        new Date(T0).toISOString(),
        audit.batch,
      );
      expect(audit.outcomes).toEqual([closed]);
      const events = await allAuditEvents(ctx.store, tenantId);
      expect(events.map((e) => e.resource.id)).toEqual(['before', audit.marker]);
      expect(events[1]?.detail).toEqual({ note: 'closed' });
      expect(events[1]?.at).toBe(audit.batch.at.toISOString());
      expect(await verifyAudit(ctx.store, tenantId)).toEqual({ ok: true, checked: 2 });
    });

    it('builds each turn and asks each batch for its events once, even beside a refused call', async () => {
      const taken = tenantRecord();
      await ctx.store.createTenant(taken, apiKeyRecord(taken), recorder<void>().batch);
      const tenantId = freshTenant();
      const conversation = await conversationIn(ctx.store, tenantId);
      const request = appendRequest(conversation.id, 0, 'once');
      let builds = 0;
      const audit = recorder<AppendOutcome>();
      const refusedName = tenantRecord({ name: taken.name });
      const build: typeof request.build = (number, prevHash) => {
        builds += 1;
        return request.build(number, prevHash);
      };
      const [appended, refused] = await Promise.allSettled([
        ctx.store.appendTurn(tenantId, { ...request, build }, audit.batch),
        ctx.store.createTenant(refusedName, apiKeyRecord(refusedName), recorder<void>().batch),
      ]);
      expect(appended).toMatchObject({ status: 'fulfilled', value: { kind: 'appended' } });
      expect(refused).toMatchObject({ status: 'rejected', reason: { code: 'tenant_exists' } });
      expect(builds).toBe(1);
      expect(audit.outcomes).toHaveLength(1);
      expect((await allAuditEvents(ctx.store, tenantId)).map((e) => e.resource.id)).toEqual([audit.marker]);
    });

    it('a batch whose events cannot be sealed leaves the change unwritten', async () => {
      const tenantId = freshTenant();
      const record = newConversation();
      const broken: AuditBatch<unknown> = {
        at: new Date(T0),
        events: () => [{ ...markerEvent('bad'), action: 'Not An Action' }],
      };
      await expect(ctx.store.createConversation(tenantId, record, broken)).rejects.toThrow();
      expect(await ctx.other.getConversation(tenantId, record.id)).toBeNull();
      expect(await ctx.other.auditHead(tenantId)).toBeNull();
    });

    it('stores signed checkpoints as given, ordered by seq; a second one at the same seq is ignored', async () => {
      const tenantId = freshTenant();
      await ctx.store.appendAudit(tenantId, [markerEvent('a'), markerEvent('b'), markerEvent('c')], new Date(T0));
      const events = await allAuditEvents(ctx.store, tenantId);
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const key = { kid: 'audit-1', privateKey };
      const third = signCheckpoint({ tenantId, seq: 3, hash: events[2]!.hash }, new Date(T0 + 3000), key);
      const first = signCheckpoint({ tenantId, seq: 1, hash: events[0]!.hash }, new Date(T0 + 1000), key);
      await ctx.store.insertAuditCheckpoint(third);
      await ctx.other.insertAuditCheckpoint(first);
      await ctx.store.insertAuditCheckpoint(
        signCheckpoint({ tenantId, seq: 3, hash: events[2]!.hash }, new Date(T0 + 9000), key),
      );
      const stored = await ctx.other.listAuditCheckpoints(tenantId);
      expect(stored).toEqual([first, third]);
      for (const cp of stored) expect(verifyCheckpointSignature(cp, () => publicKey)).toBe(true);
      expect(await ctx.store.listAuditCheckpoints(freshTenant())).toEqual([]);
    });

    it('listAuditTenants names every tenant with a chain', async () => {
      const tenants = [freshTenant(), freshTenant()];
      await ctx.store.appendAudit(tenants[0]!, [markerEvent('x')], new Date(T0));
      await ctx.other.appendAudit(tenants[1]!, [markerEvent('y')], new Date(T0));
      const listed = await ctx.store.listAuditTenants();
      expect(listed).toEqual(expect.arrayContaining(tenants));
      expect(new Set(listed).size).toBe(listed.length);
    });

    const tamper = ctx.factory.tamperAudit?.bind(ctx.factory);
    const tamperName = tamper
      ? 'the database refuses UPDATE and DELETE of audit rows made behind the adapter'
      : 'the database refuses UPDATE and DELETE of audit rows (skipped: this backend cannot enforce append-only rows)';
    it.skipIf(!tamper)(tamperName, async () => {
      const tenantId = freshTenant();
      await ctx.store.appendAudit(tenantId, [markerEvent('a'), markerEvent('b')], new Date(T0));
      const before = await allAuditEvents(ctx.store, tenantId);
      await expect(tamper!(tenantId, 1)).rejects.toThrow();
      await expect(tamper!(tenantId, 2)).rejects.toThrow();
      expect(await allAuditEvents(ctx.store, tenantId)).toEqual(before);
      expect(await verifyAudit(ctx.store, tenantId)).toEqual({ ok: true, checked: 2 });
    });
  });
}
