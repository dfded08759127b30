import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/audit/event.ts';
import { genesisHash } from '../../../src/conversations/turn-hash.ts';
import type { TenantId } from '../../../src/core/types.ts';
import type { ConversationRecord, TurnRecord } from '../../../src/store/port.ts';
import {
  allAuditEvents,
  allTurns,
  append,
  assertTurnChain,
  freshConversationId,
  freshTenant,
  hex,
  iso,
  markerEvent,
  plainTurn,
  sealedEvents,
  T0,
  verifyAudit,
} from '../fixtures.ts';
import { apiKeyRecord, tenantRecord } from './credentials.ts';
import type { SuiteContext } from './suite-context.ts';

/** An exported conversation of `count` turns, as `continuum export` would carry it. */
function exported(tenantId: TenantId, count: number, overrides: Partial<ConversationRecord> = {}) {
  const id = overrides.id ?? freshConversationId();
  const turns: TurnRecord[] = [];
  let head = genesisHash(id);
  for (let n = 1; n <= count; n++) {
    const turn = plainTurn(id, n, head, `exported ${n} ${hex(2)}`, n % 2 ? 'user' : 'assistant', iso(100 + n));
    turns.push(turn);
    head = turn.hash;
  }
  const conversation: ConversationRecord = {
    id,
    tenantId,
    subject: 'patient-9',
    title: 'sealed title',
    metadata: { sealed: hex(4) },
    clientKey: `ck_${hex(4)}`,
    startedAt: iso(-3600),
    createdAt: iso(100),
    genesisHash: genesisHash(id),
    turn: count,
    headHash: head,
    status: 'open',
    closedAt: null,
    ...overrides,
  };
  return { conversation, turns };
}

const withBuffers = (turns: TurnRecord[]) => turns.map((t) => ({ ...t, content: Buffer.from(t.content) }));

async function refusedWith(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (error === null) throw new Error('expected a refusal');
  return error instanceof TypeError ? 'TypeError' : String((error as { code?: unknown }).code);
}

/** Export reads (listTenants, listApiKeys) and imports that keep every id, number, hash and time. */
export function transferTests(ctx: SuiteContext): void {
  describe('export and import', () => {
    it('listTenants and listApiKeys include what was created', async () => {
      const tenant = tenantRecord();
      const key = apiKeyRecord(tenant);
      await ctx.store.createTenant(tenant, key, { at: new Date(T0), events: () => [] });
      expect(await ctx.other.listTenants()).toContainEqual(tenant);
      expect(await ctx.other.listApiKeys(tenant.id)).toEqual([key]);
    });

    it('imports a tenant with its keys as they were; both list oldest first', async () => {
      const older = tenantRecord({ createdAt: iso(-20_000) });
      const newer = tenantRecord({ createdAt: iso(-10_000) });
      const keys = [
        apiKeyRecord(newer, { createdAt: iso(30), revokedAt: iso(40) }),
        apiKeyRecord(newer, { createdAt: iso(10) }),
        apiKeyRecord(newer, { createdAt: iso(20) }),
      ];
      await ctx.store.importTenant(newer, keys);
      await ctx.other.importTenant(older, []);
      expect(await ctx.store.getTenant(newer.id)).toEqual(newer);
      expect(await ctx.store.listApiKeys(newer.id)).toEqual([keys[1], keys[2], keys[0]]);
      for (const key of keys) expect(await ctx.other.findApiKey(newer.id, key.hash)).toEqual(key);
      const listed = (await ctx.other.listTenants()).map((t) => t.id);
      expect(listed.indexOf(older.id)).toBeGreaterThanOrEqual(0);
      expect(listed.indexOf(older.id)).toBeLessThan(listed.indexOf(newer.id));
      // Imports are not audited by the store: the import command records what it did.
      expect(await ctx.store.auditHead(newer.id)).toBeNull();
    });

    it('refuses a tenant whose id or name is taken with tenant_exists, writing nothing', async () => {
      const tenant = tenantRecord();
      await ctx.store.importTenant(tenant, [apiKeyRecord(tenant)]);
      const sameId = tenantRecord({ id: tenant.id });
      const sameIdKey = apiKeyRecord(sameId);
      expect(await refusedWith(ctx.other.importTenant(sameId, [sameIdKey]))).toBe('tenant_exists');
      expect(await ctx.store.getTenant(tenant.id)).toEqual(tenant);
      expect(await ctx.store.findApiKey(tenant.id, sameIdKey.hash)).toBeNull();
      expect(await ctx.store.listApiKeys(tenant.id)).toHaveLength(1);

      const sameName = tenantRecord({ name: tenant.name });
      expect(await refusedWith(ctx.store.importTenant(sameName, [apiKeyRecord(sameName)]))).toBe('tenant_exists');
      expect(await ctx.store.getTenant(sameName.id)).toBeNull();
      expect(await ctx.store.listApiKeys(sameName.id)).toEqual([]);
    });

    it('imports a conversation with its turns exactly; appends then continue its chain', async () => {
      const tenantId = freshTenant();
      const { conversation, turns } = exported(tenantId, 3);
      await ctx.store.importConversation(tenantId, conversation, turns);
      expect(await ctx.other.getConversation(tenantId, conversation.id)).toEqual(conversation);
      expect(withBuffers(await allTurns(ctx.other, tenantId, conversation.id))).toEqual(withBuffers(turns));
      expect((await ctx.other.listConversations(tenantId, { limit: 10 })).items).toEqual([conversation]);

      const next = await append(ctx.other, tenantId, conversation.id, 3, 'after import');
      expect(next).toMatchObject({ kind: 'appended', turn: { number: 4, prevHash: conversation.headHash } });
      expect(await append(ctx.store, tenantId, conversation.id, 3, 'stale')).toMatchObject({
        kind: 'conflict',
        currentTurn: 4,
      });
      assertTurnChain(conversation, await allTurns(ctx.store, tenantId, conversation.id));

      const closed = exported(tenantId, 0, { status: 'closed', closedAt: iso(500), title: null, metadata: null });
      await ctx.other.importConversation(tenantId, closed.conversation, []);
      expect(await ctx.store.getConversation(tenantId, closed.conversation.id)).toEqual(closed.conversation);
      expect(await append(ctx.store, tenantId, closed.conversation.id, 0, 'x')).toEqual({ kind: 'closed' });
    });

    it('refuses an existing conversation id, in any tenant, with conversation_conflict, writing nothing', async () => {
      const tenantId = freshTenant();
      const original = exported(tenantId, 2);
      await ctx.store.importConversation(tenantId, original.conversation, original.turns);
      const again = exported(tenantId, 3, { id: original.conversation.id });
      expect(await refusedWith(ctx.other.importConversation(tenantId, again.conversation, again.turns))).toBe(
        'conversation_conflict',
      );
      const stranger = freshTenant();
      const elsewhere = exported(stranger, 1, { id: original.conversation.id });
      expect(await refusedWith(ctx.store.importConversation(stranger, elsewhere.conversation, elsewhere.turns))).toBe(
        'conversation_conflict',
      );
      expect(await ctx.store.getConversation(tenantId, original.conversation.id)).toEqual(original.conversation);
      expect(withBuffers(await allTurns(ctx.store, tenantId, original.conversation.id))).toEqual(
        withBuffers(original.turns),
      );
      expect(await ctx.store.getConversation(stranger, original.conversation.id)).toBeNull();
    });

    it('refuses records that do not belong together with a TypeError, writing nothing', async () => {
      const tenantId = freshTenant();
      const other = exported(freshTenant(), 1);
      expect(await refusedWith(ctx.store.importConversation(tenantId, other.conversation, other.turns))).toBe(
        'TypeError',
      );
      const short = exported(tenantId, 3);
      expect(
        await refusedWith(ctx.store.importConversation(tenantId, short.conversation, short.turns.slice(0, 2))),
      ).toBe('TypeError');
      const gap = exported(tenantId, 3);
      const swapped = [gap.turns[0]!, gap.turns[2]!, gap.turns[1]!];
      expect(await refusedWith(ctx.store.importConversation(tenantId, gap.conversation, swapped))).toBe('TypeError');
      for (const id of [other.conversation.id, short.conversation.id, gap.conversation.id]) {
        expect(await ctx.store.getConversation(tenantId, id)).toBeNull();
        expect(await ctx.store.listTurns(tenantId, id, 0, 10)).toEqual([]);
      }
      const tenant = tenantRecord();
      const foreignKey = apiKeyRecord(tenantRecord());
      expect(await refusedWith(ctx.store.importTenant(tenant, [foreignKey]))).toBe('TypeError');
      expect(await ctx.store.getTenant(tenant.id)).toBeNull();
    });

    it("imports audit events that start or continue a tenant's chain, exactly as exported", async () => {
      const tenantId = freshTenant();
      const first = sealedEvents(tenantId, null, 4);
      await ctx.store.importAuditEvents(tenantId, first);
      expect(await allAuditEvents(ctx.other, tenantId)).toEqual(first);
      expect(await ctx.other.auditHead(tenantId)).toEqual({ seq: 4, hash: first[3]!.hash });
      expect(await ctx.other.listAuditTenants()).toContain(tenantId);

      const head = await ctx.store.appendAudit(tenantId, [markerEvent('live')], new Date(T0 + 10_000));
      expect(head?.seq).toBe(5);
      const more = sealedEvents(tenantId, head, 3);
      await ctx.other.importAuditEvents(tenantId, more);
      await ctx.other.importAuditEvents(tenantId, []);
      const all = await allAuditEvents(ctx.store, tenantId);
      expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(all[4]?.prevHash).toBe(first[3]?.hash);
      expect(all.slice(5)).toEqual(more);
      expect(await verifyAudit(ctx.store, tenantId)).toEqual({ ok: true, checked: 8 });
    });

    it('refuses audit events that do not continue the chain exactly with turn_conflict, writing nothing', async () => {
      const tenantId = freshTenant();
      await ctx.store.importAuditEvents(tenantId, sealedEvents(tenantId, null, 2));
      const head = (await ctx.store.auditHead(tenantId))!;
      const good = sealedEvents(tenantId, head, 3);
      const relinked = (events: AuditEvent[], index: number, prevHash: string) =>
        events.map((e, i) => (i === index ? { ...e, prevHash } : e));
      const attempts: [string, AuditEvent[]][] = [
        ['a gap before the first', sealedEvents(tenantId, { seq: head.seq + 1, hash: head.hash }, 2)],
        ['an overlap with the head', sealedEvents(tenantId, { seq: head.seq - 1, hash: head.hash }, 2)],
        ['a first event not linked to the head', relinked(good, 0, 'f'.repeat(64))],
        ['a seq missing inside', [good[0]!, good[2]!]],
        ['a broken link inside', relinked(good, 2, good[0]!.hash)],
      ];
      for (const [what, events] of attempts) {
        expect({ what, refused: await refusedWith(ctx.other.importAuditEvents(tenantId, events)) }).toEqual({
          what,
          refused: 'turn_conflict',
        });
      }
      expect(await ctx.store.auditHead(tenantId)).toEqual(head);

      const empty = freshTenant();
      const notGenesis = relinked(sealedEvents(empty, null, 2), 0, 'b'.repeat(64));
      expect(await refusedWith(ctx.store.importAuditEvents(empty, notGenesis))).toBe('turn_conflict');
      expect(await refusedWith(ctx.store.importAuditEvents(empty, sealedEvents(empty, head, 1)))).toBe('turn_conflict');
      expect(await ctx.store.auditHead(empty)).toBeNull();
      expect(await refusedWith(ctx.store.importAuditEvents(empty, sealedEvents(freshTenant(), null, 1)))).toBe(
        'TypeError',
      );
      expect(await ctx.store.auditHead(empty)).toBeNull();
    });
  });
}
