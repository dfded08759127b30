import { describe, expect, it } from 'vitest';
import type { ConversationId, TenantId } from '../../../src/core/types.ts';
import type { AppendOutcome, AppendTurnRequest, ConversationRecord, TurnRecord } from '../../../src/store/port.ts';
import {
  allAuditEvents,
  allTurns,
  append,
  appendRequest,
  assertTurnChain,
  conversationIn,
  freshConversationId,
  freshTenant,
  iso,
  noAudit,
  recorder,
} from '../fixtures.ts';
import type { SuiteContext } from './suite-context.ts';

/** Appending and reading turns: expected turn, conflicts, closed, not found, hash chain, idempotency, getTurns. */
export function turnTests(ctx: SuiteContext): void {
  async function withTurns(count: number): Promise<{ tenantId: TenantId; conversation: ConversationRecord }> {
    const tenantId = freshTenant();
    let conversation = await conversationIn(ctx.store, tenantId);
    for (let n = 0; n < count; n++) {
      const outcome = await append(ctx.store, tenantId, conversation.id, n, `turn ${n + 1}`);
      if (outcome.kind !== 'appended') throw new Error(`setup append ${n + 1} was ${outcome.kind}`);
      conversation = outcome.conversation;
    }
    return { tenantId, conversation };
  }

  // Adapters return the content as their driver gives it (Buffer, Uint8Array): compare the bytes.
  const plain = (turn: TurnRecord) => ({ ...turn, content: Buffer.from(turn.content) });

  const idempotent = (id: ConversationId, expectedTurn: number, text: string, key: string, requestHash: string) =>
    appendRequest(id, expectedTurn, text, { idempotency: { key, requestHash, createdAt: iso(50) } });

  describe('turn append', () => {
    it('appends turn 1 on the genesis hash, then chains each turn to the head', async () => {
      const tenantId = freshTenant();
      const conversation = await conversationIn(ctx.store, tenantId);
      const seen: [number, string][] = [];
      const request: AppendTurnRequest = {
        ...appendRequest(conversation.id, 0, 'hello'),
        build(number, prevHash) {
          seen.push([number, prevHash]);
          return appendRequest(conversation.id, 0, 'hello').build(number, prevHash);
        },
      };
      const first = await ctx.store.appendTurn(tenantId, request, noAudit());
      expect(seen).toEqual([[1, conversation.genesisHash]]);
      if (first.kind !== 'appended') throw new Error(`expected appended, got ${first.kind}`);
      expect(first.turn).toMatchObject({
        conversationId: conversation.id,
        number: 1,
        prevHash: conversation.genesisHash,
      });
      expect(first.conversation).toEqual({ ...conversation, turn: 1, headHash: first.turn.hash });

      const second = await append(ctx.other, tenantId, conversation.id, 1, 'again');
      if (second.kind !== 'appended') throw new Error(`expected appended, got ${second.kind}`);
      expect(second.turn.prevHash).toBe(first.turn.hash);
      expect(second.conversation).toEqual({ ...conversation, turn: 2, headHash: second.turn.hash });
      expect(await ctx.store.getConversation(tenantId, conversation.id)).toEqual(second.conversation);

      const turns = await allTurns(ctx.other, tenantId, conversation.id);
      expect(turns.map((t) => ({ ...t, content: Buffer.from(t.content) }))).toEqual([
        { ...first.turn, content: Buffer.from(first.turn.content) },
        { ...second.turn, content: Buffer.from(second.turn.content) },
      ]);
      assertTurnChain(second.conversation, turns);
    });

    it('listTurns returns turns after a number, ascending, at most limit', async () => {
      const { tenantId, conversation } = await withTurns(6);
      expect((await ctx.store.listTurns(tenantId, conversation.id, 2, 3)).map((t) => t.number)).toEqual([3, 4, 5]);
      expect((await ctx.store.listTurns(tenantId, conversation.id, 5, 10)).map((t) => t.number)).toEqual([6]);
      expect(await ctx.store.listTurns(tenantId, conversation.id, 6, 10)).toEqual([]);
      expect(await ctx.store.listTurns(tenantId, freshConversationId(), 0, 10)).toEqual([]);
    });

    it('getTurns returns the turns of scattered numbers, ascending, as listTurns returns them', async () => {
      const { tenantId, conversation } = await withTurns(8);
      const listed = new Map((await allTurns(ctx.store, tenantId, conversation.id)).map((t) => [t.number, t]));
      const got = await ctx.other.getTurns(tenantId, conversation.id, [7, 2, 5, 1]);
      expect(got.map(plain)).toEqual([1, 2, 5, 7].map((n) => plain(listed.get(n)!)));
    });

    it('getTurns ignores duplicate, zero, negative and fractional numbers; numbers past the head are absent', async () => {
      const { tenantId, conversation } = await withTurns(4);
      const got = await ctx.store.getTurns(tenantId, conversation.id, [3, 0, -1, 3, 2.5, Number.NaN, 99, 1, 4, 1]);
      expect(got.map((t) => t.number)).toEqual([1, 3, 4]);
      expect(await ctx.store.getTurns(tenantId, conversation.id, [0, 5, 6])).toEqual([]);
    });

    it('getTurns of no numbers is empty', async () => {
      const { tenantId, conversation } = await withTurns(2);
      expect(await ctx.store.getTurns(tenantId, conversation.id, [])).toEqual([]);
    });

    it("getTurns of another tenant's conversation, or an unknown one, is empty", async () => {
      const { tenantId, conversation } = await withTurns(3);
      expect(await ctx.store.getTurns(freshTenant(), conversation.id, [1, 2, 3])).toEqual([]);
      expect(await ctx.store.getTurns(tenantId, freshConversationId(), [1, 2, 3])).toEqual([]);
    });

    it('getTurns takes at most 100 numbers: 101 is a TypeError', async () => {
      const { tenantId, conversation } = await withTurns(3);
      const upTo = (count: number) => Array.from({ length: count }, (_, i) => i + 1);
      expect((await ctx.store.getTurns(tenantId, conversation.id, upTo(100))).map((t) => t.number)).toEqual([1, 2, 3]);
      await expect(ctx.store.getTurns(tenantId, conversation.id, upTo(101))).rejects.toThrow(TypeError);
    });

    it('a stale expected turn is a conflict carrying the current turn and the missed turns, up to missedLimit', async () => {
      const { tenantId, conversation } = await withTurns(4);
      const audit = recorder<AppendOutcome>();
      const stale = await ctx.other.appendTurn(
        tenantId,
        appendRequest(conversation.id, 1, 'late', { missedLimit: 2 }),
        audit.batch,
      );
      if (stale.kind !== 'conflict') throw new Error(`expected conflict, got ${stale.kind}`);
      expect(stale.currentTurn).toBe(4);
      const turns = await allTurns(ctx.store, tenantId, conversation.id);
      expect(stale.missed.map((t) => t.number)).toEqual([2, 3]);
      expect(stale.missed.map((t) => t.hash)).toEqual([turns[1]!.hash, turns[2]!.hash]);
      expect(audit.outcomes).toEqual([stale]);

      const all = await append(ctx.store, tenantId, conversation.id, 0, 'very late');
      expect(all).toMatchObject({ kind: 'conflict', currentTurn: 4 });
      expect(all.kind === 'conflict' && all.missed.map((t) => t.number)).toEqual([1, 2, 3, 4]);

      const ahead = await append(ctx.store, tenantId, conversation.id, 9, 'from the future');
      expect(ahead).toEqual({ kind: 'conflict', currentTurn: 4, missed: [] });
      expect(await allTurns(ctx.store, tenantId, conversation.id)).toHaveLength(4);
      // The refused append is audited in the same call.
      expect((await allAuditEvents(ctx.store, tenantId)).map((e) => e.resource.id)).toEqual([audit.marker]);
    });

    it('a closed conversation refuses appends with closed, audited', async () => {
      const { tenantId, conversation } = await withTurns(1);
      await ctx.store.closeConversation(tenantId, conversation.id, iso(9), noAudit());
      const audit = recorder<AppendOutcome>();
      const outcome = await ctx.other.appendTurn(
        tenantId,
        appendRequest(conversation.id, 1, 'after close'),
        audit.batch,
      );
      expect(outcome).toEqual({ kind: 'closed' });
      expect(audit.outcomes).toEqual([outcome]);
      expect(await allTurns(ctx.store, tenantId, conversation.id)).toHaveLength(1);
      expect((await allAuditEvents(ctx.store, tenantId)).map((e) => e.resource.id)).toEqual([audit.marker]);
    });

    it('an unknown conversation, or one of another tenant, is not_found and nothing is written', async () => {
      const { tenantId, conversation } = await withTurns(1);
      const audit = recorder<AppendOutcome>();
      expect(await ctx.store.appendTurn(tenantId, appendRequest(freshConversationId(), 0, 'x'), audit.batch)).toEqual({
        kind: 'not_found',
      });
      expect(audit.outcomes).toEqual([{ kind: 'not_found' }]);
      const stranger = freshTenant();
      expect(await append(ctx.other, stranger, conversation.id, 1, 'not mine')).toEqual({ kind: 'not_found' });
      expect(await allTurns(ctx.store, tenantId, conversation.id)).toHaveLength(1);
      expect(await ctx.store.getConversation(tenantId, conversation.id)).toEqual(conversation);
    });

    it('an idempotent retry replays the original turn number and writes nothing twice', async () => {
      const { tenantId, conversation } = await withTurns(2);
      const first = await ctx.store.appendTurn(tenantId, idempotent(conversation.id, 2, 'once', 'k1', 'h1'), noAudit());
      expect(first).toMatchObject({ kind: 'appended', turn: { number: 3 } });
      await append(ctx.store, tenantId, conversation.id, 3, 'someone else');

      const audit = recorder<AppendOutcome>();
      const retry = await ctx.other.appendTurn(
        tenantId,
        idempotent(conversation.id, 2, 'once', 'k1', 'h1'),
        audit.batch,
      );
      const current = await ctx.store.getConversation(tenantId, conversation.id);
      expect(retry).toEqual({ kind: 'replayed', turnNumber: 3, conversation: current });
      expect(audit.outcomes).toEqual([retry]);
      expect(await allTurns(ctx.store, tenantId, conversation.id)).toHaveLength(4);

      const concurrent = await Promise.all(
        [ctx.store, ctx.other, ctx.store, ctx.other].map((s) =>
          s.appendTurn(tenantId, idempotent(conversation.id, 4, 'twice', 'k2', 'h2'), noAudit()),
        ),
      );
      expect(concurrent.filter((o) => o.kind === 'appended')).toHaveLength(1);
      expect(concurrent.filter((o) => o.kind === 'replayed').map((o) => o.kind === 'replayed' && o.turnNumber)).toEqual(
        [5, 5, 5],
      );
      expect(await allTurns(ctx.store, tenantId, conversation.id)).toHaveLength(5);
    });

    it('a reused idempotency key with another request is idempotency_mismatch', async () => {
      const { tenantId, conversation } = await withTurns(0);
      await ctx.store.appendTurn(tenantId, idempotent(conversation.id, 0, 'one', 'k', 'h-one'), noAudit());
      const audit = recorder<AppendOutcome>();
      const outcome = await ctx.other.appendTurn(
        tenantId,
        idempotent(conversation.id, 1, 'two', 'k', 'h-two'),
        audit.batch,
      );
      expect(outcome).toEqual({ kind: 'idempotency_mismatch' });
      expect(audit.outcomes).toEqual([outcome]);
      expect(await allTurns(ctx.store, tenantId, conversation.id)).toHaveLength(1);
      // Keys are per conversation: the same key elsewhere is a fresh append.
      const elsewhere = await conversationIn(ctx.store, tenantId);
      const fresh = await ctx.store.appendTurn(tenantId, idempotent(elsewhere.id, 0, 'two', 'k', 'h-two'), noAudit());
      expect(fresh.kind).toBe('appended');
    });

    it('a retry is answered before the closed check: it replays after the conversation closed', async () => {
      const { tenantId, conversation } = await withTurns(0);
      await ctx.store.appendTurn(tenantId, idempotent(conversation.id, 0, 'last words', 'k', 'h'), noAudit());
      await ctx.store.closeConversation(tenantId, conversation.id, iso(60), noAudit());
      const retry = await ctx.other.appendTurn(
        tenantId,
        idempotent(conversation.id, 0, 'last words', 'k', 'h'),
        noAudit(),
      );
      expect(retry).toMatchObject({ kind: 'replayed', turnNumber: 1, conversation: { status: 'closed' } });
    });
  });
}
