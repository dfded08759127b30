import { describe, expect, it } from 'vitest';
import type { ConversationRecord } from '../../../src/store/port.ts';
import {
  allAuditEvents,
  conversationIn,
  freshConversationId,
  freshTenant,
  iso,
  newConversation,
  noAudit,
  recorder,
} from '../fixtures.ts';
import type { SuiteContext } from './suite-context.ts';

type Created = { created: boolean; conversation: ConversationRecord };

/** Conversations: create, get, list with subject filter and cursor, close. */
export function conversationTests(ctx: SuiteContext): void {
  describe('conversations', () => {
    it('creates a conversation at turn 0 on its genesis hash, and every client reads it back', async () => {
      const tenantId = freshTenant();
      const record = newConversation(freshConversationId(), {
        title: 'sealed-title',
        metadata: { sealed: 'abc', nested: { n: 1, list: [1, 'two'] } },
        startedAt: iso(-30),
        createdAt: iso(5),
      });
      const audit = recorder<Created>();
      const result = await ctx.store.createConversation(tenantId, record, audit.batch);
      const expected: ConversationRecord = {
        ...record,
        tenantId,
        turn: 0,
        headHash: record.genesisHash,
        status: 'open',
        closedAt: null,
      };
      expect(result).toEqual({ created: true, conversation: expected });
      expect(audit.outcomes).toEqual([result]);
      expect(await ctx.other.getConversation(tenantId, record.id)).toEqual(expected);
      expect(await ctx.store.getConversation(tenantId, freshConversationId())).toBeNull();
      expect((await allAuditEvents(ctx.store, tenantId)).map((e) => e.resource.id)).toEqual([audit.marker]);
    });

    it('creating an existing id returns created:false with the stored row, unchanged, whatever the tenant', async () => {
      const tenantId = freshTenant();
      const first = await conversationIn(ctx.store, tenantId, { subject: 'patient-1' });
      const again = recorder<Created>();
      const retry = await ctx.other.createConversation(
        tenantId,
        newConversation(first.id, { subject: 'patient-2', title: 'other' }),
        again.batch,
      );
      expect(retry).toEqual({ created: false, conversation: first });
      expect(again.outcomes).toEqual([retry]);
      // Ids are global: another tenant gets the existing row (its owner is for the caller to check).
      const elsewhere = await ctx.store.createConversation(freshTenant(), newConversation(first.id), noAudit());
      expect(elsewhere).toEqual({ created: false, conversation: first });
      expect(await ctx.store.getConversation(tenantId, first.id)).toEqual(first);
      // The refused create is audited with its outcome.
      expect((await allAuditEvents(ctx.store, tenantId)).map((e) => e.resource.id)).toEqual([again.marker]);
    });

    it('of clients racing to create the same id, exactly one creates it', async () => {
      const tenantId = freshTenant();
      const id = freshConversationId();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? ctx.other : ctx.store).createConversation(
            tenantId,
            newConversation(id, { clientKey: `k${i}` }),
            noAudit(),
          ),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const winner = results.find((r) => r.created)!.conversation;
      for (const r of results) expect(r.conversation).toEqual(winner);
    });

    it('lists newest first, a page at a time with a cursor, filtered by subject', async () => {
      const tenantId = freshTenant();
      const mine: ConversationRecord[] = [];
      for (let i = 0; i < 5; i++) {
        mine.push(await conversationIn(ctx.store, tenantId, { subject: 's-1', createdAt: iso(i * 2) }));
        if (i < 2) await conversationIn(ctx.other, tenantId, { subject: 's-2', createdAt: iso(i * 2 + 1) });
      }
      const pages = async (subject: string | undefined, limit: number) => {
        const result: ConversationRecord[][] = [];
        let cursor: string | undefined;
        do {
          const page = await ctx.other.listConversations(tenantId, {
            limit,
            ...(subject === undefined ? {} : { subject }),
            ...(cursor === undefined ? {} : { cursor }),
          });
          result.push(page.items);
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined && result.length < 10);
        return result;
      };
      const ofSubject = await pages('s-1', 2);
      expect(ofSubject.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(ofSubject.flat()).toEqual([...mine].reverse());

      const everything = await pages(undefined, 3);
      expect(everything.map((p) => p.length)).toEqual([3, 3, 1]);
      const all = everything.flat();
      expect(new Set(all.map((c) => c.id)).size).toBe(7);
      expect(all.filter((c) => c.subject === 's-1')).toEqual([...mine].reverse());
      expect(all.map((c) => c.createdAt)).toEqual(
        all
          .map((c) => c.createdAt)
          .sort()
          .reverse(),
      );
      const exact = await ctx.store.listConversations(tenantId, { subject: 's-2', limit: 2 });
      expect(exact.items).toHaveLength(2);
      expect(exact.nextCursor).toBeNull();
      expect(await ctx.store.listConversations(tenantId, { subject: 'nobody', limit: 5 })).toEqual({
        items: [],
        nextCursor: null,
      });
    });

    it('refuses a cursor it did not issue with invalid_request', async () => {
      await expect(
        ctx.store.listConversations(freshTenant(), { limit: 5, cursor: 'not-a-cursor' }),
      ).rejects.toMatchObject({ code: 'invalid_request' });
    });

    it('closes a conversation once; closing again returns the closed row unchanged; unknown → null', async () => {
      const tenantId = freshTenant();
      const open = await conversationIn(ctx.store, tenantId);
      const audit = recorder<ConversationRecord | null>();
      const closed = await ctx.other.closeConversation(tenantId, open.id, iso(100), audit.batch);
      expect(closed).toEqual({ ...open, status: 'closed', closedAt: iso(100) });
      expect(audit.outcomes).toEqual([closed]);
      expect(await ctx.store.getConversation(tenantId, open.id)).toEqual(closed);
      expect(await ctx.store.closeConversation(tenantId, open.id, iso(200), noAudit())).toEqual(closed);

      const missing = recorder<ConversationRecord | null>();
      expect(await ctx.store.closeConversation(tenantId, freshConversationId(), iso(100), missing.batch)).toBeNull();
      expect(missing.outcomes).toEqual([null]);
      const markers = (await allAuditEvents(ctx.store, tenantId)).map((e) => e.resource.id);
      expect(markers).toEqual([audit.marker, missing.marker]);
    });
  });
}
