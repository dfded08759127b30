import { describe, expect, it } from 'vitest';
import type { TenantId } from '../../../src/core/types.ts';
import type { ContextStateRecord, Store } from '../../../src/store/port.ts';
import {
  allTurns,
  append,
  bytes,
  conversationIn,
  freshTenant,
  hex,
  iso,
  markerEvent,
  noAudit,
  T0,
} from '../fixtures.ts';
import { apiKeyRecord, tenantRecord } from './credentials.ts';
import type { SuiteContext } from './suite-context.ts';

/** Tenant A with one of everything. */
async function populated(store: Store) {
  const tenant = tenantRecord();
  const key = apiKeyRecord(tenant);
  await store.createTenant(tenant, key, { at: new Date(T0), events: () => [markerEvent('tenant')] });
  const tenantId = tenant.id;
  const conversation = await conversationIn(store, tenantId);
  const outcome = await append(store, tenantId, conversation.id, 0, 'private');
  if (outcome.kind !== 'appended') throw new Error(`setup append was ${outcome.kind}`);
  const state: ContextStateRecord = { version: 1, throughTurn: 1, state: bytes('state'), updatedAt: iso() };
  await store.putContextState(tenantId, conversation.id, state, null);
  await store.appendStreamEvent(tenantId, conversation.id, { id: '0001', event: 'turn', data: bytes('e1') });
  await store.appendStreamEvent(tenantId, conversation.id, { id: '0002', event: 'turn', data: bytes('e2') });
  const familyId = `fam_${hex(6)}`;
  const refresh = hex(32);
  await store.createRefreshFamily(
    tenantId,
    {
      id: familyId,
      tenantId,
      subject: 'patient-1',
      scope: 'conversations',
      createdAtMs: T0,
      expiresAtMs: T0 + 3_600_000,
      revokedAtMs: null,
      revokedReason: null,
    },
    { hash: refresh, familyId, createdAtMs: T0, expiresAtMs: T0 + 3_600_000 },
    noAudit(),
  );
  await store.insertDataKey({
    tenantId,
    version: 1,
    masterKeyId: 'mk',
    wrapped: Buffer.from(hex(40), 'hex'),
    createdAt: iso(),
  });
  await store.appendAudit(tenantId, [markerEvent('read')], new Date(T0));
  await store.insertAuditCheckpoint({
    tenantId,
    seq: 1,
    hash: (await store.auditHead(tenantId))!.hash,
    at: iso(),
    kid: 'kid',
    signature: 'sig',
  });
  return { tenantId, key, conversation: outcome.conversation, state, familyId, refresh };
}

/** Snapshot of what tenant A can see, to prove tenant B's calls changed none of it. */
async function snapshot(store: Store, tenantId: TenantId, a: Awaited<ReturnType<typeof populated>>) {
  return {
    conversation: await store.getConversation(tenantId, a.conversation.id),
    turns: (await allTurns(store, tenantId, a.conversation.id)).map((t) => ({ ...t, content: Buffer.from(t.content) })),
    context: await store.getContextState(tenantId, a.conversation.id),
    events: (await store.listStreamEvents(tenantId, a.conversation.id, null, 100)).map((e) => e.id),
    family: await store.getRefreshFamily(tenantId, a.familyId),
    audit: await store.auditHead(tenantId),
  };
}

/** Every read with another tenant's id returns nothing; every write with it changes nothing of A's. */
export function isolationTests(ctx: SuiteContext): void {
  describe('tenant isolation', () => {
    it("another tenant id reads none of tenant A's rows", async () => {
      const a = await populated(ctx.store);
      const id = a.conversation.id;
      for (const store of [ctx.store, ctx.other]) {
        const b = freshTenant();
        expect(await store.getTenant(b)).toBeNull();
        expect(await store.findApiKey(b, a.key.hash)).toBeNull();
        expect(await store.listApiKeys(b)).toEqual([]);
        expect(await store.getConversation(b, id)).toBeNull();
        expect(await store.listConversations(b, { limit: 100 })).toEqual({ items: [], nextCursor: null });
        expect(await store.listConversations(b, { limit: 100, subject: 'patient-1' })).toEqual({
          items: [],
          nextCursor: null,
        });
        expect(await store.listTurns(b, id, 0, 100)).toEqual([]);
        expect(await store.getContextState(b, id)).toBeNull();
        expect(await store.listStreamEvents(b, id, null, 100)).toEqual([]);
        expect(await store.lastStreamEventId(b, id)).toBeNull();
        expect(await store.listAuditEvents(b, { afterSeq: 0, limit: 100 })).toEqual([]);
        expect(await store.listAuditEvents(b, { afterSeq: 0, limit: 100, resourceId: 'read' })).toEqual([]);
        expect(await store.auditHead(b)).toBeNull();
        expect(await store.listAuditCheckpoints(b)).toEqual([]);
        expect(await store.getRefreshFamily(b, a.familyId)).toBeNull();
        expect(await store.listDataKeys(b)).toEqual([]);
      }
      // And tenant A still sees all of it.
      expect(await ctx.other.findApiKey(a.tenantId, a.key.hash)).toEqual(a.key);
      expect((await ctx.other.listConversations(a.tenantId, { limit: 10 })).items).toEqual([a.conversation]);
      expect(await ctx.other.lastStreamEventId(a.tenantId, id)).toBe('0002');
      expect(await ctx.other.listDataKeys(a.tenantId)).toHaveLength(1);
      expect(await ctx.other.listAuditCheckpoints(a.tenantId)).toHaveLength(1);
    });

    it("writes under another tenant id change nothing of tenant A's", async () => {
      const a = await populated(ctx.store);
      const id = a.conversation.id;
      const before = await snapshot(ctx.store, a.tenantId, a);
      const b = freshTenant();
      expect(await append(ctx.other, b, id, 1, 'intruder')).toEqual({ kind: 'not_found' });
      expect(await ctx.other.closeConversation(b, id, iso(5), noAudit())).toBeNull();
      const next = { version: 2, throughTurn: 1, state: bytes('forged'), updatedAt: iso(5) };
      expect(await ctx.other.putContextState(b, id, next, 1)).toBe(false);
      // An insert under B may or may not be refused (ids are global), but A's state never changes.
      await ctx.other.putContextState(b, id, { ...next, version: 1 }, null).catch(() => undefined);
      await ctx.other.pruneStreamEvents(b, id, 1);
      expect(
        await ctx.other.rotateRefreshToken(
          b,
          a.refresh,
          { hash: hex(32), createdAtMs: T0, expiresAtMs: T0 + 1 },
          T0,
          noAudit(),
        ),
      ).toEqual({
        kind: 'not_found',
      });
      expect(await ctx.other.revokeRefreshFamilyOf(b, a.refresh, 'intruder', T0, noAudit())).toBeNull();
      expect(await ctx.other.rewrapDataKey(b, 1, 'mk', { masterKeyId: 'mk2', wrapped: Buffer.alloc(8) })).toBe(false);
      await ctx.other.appendAudit(b, [markerEvent('b-read')], new Date(T0));

      expect(await snapshot(ctx.store, a.tenantId, a)).toEqual(before);
      expect((await ctx.store.listDataKeys(a.tenantId))[0]?.masterKeyId).toBe('mk');
      expect((await ctx.store.auditHead(b))?.seq).toBeGreaterThanOrEqual(1);
    });
  });
}
