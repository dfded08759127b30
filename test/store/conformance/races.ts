import { describe, expect, it } from 'vitest';
import type { ConversationId, TenantId } from '../../../src/core/types.ts';
import type { AppendOutcome, Store } from '../../../src/store/port.ts';
import { allTurns, append, assertTurnChain, conversationIn, freshTenant, recorder, verifyAudit } from '../fixtures.ts';
import type { SuiteContext } from './suite-context.ts';

/** Append `count` turns as one writer, retrying each from the current turn a conflict reports. */
async function writer(
  store: Store,
  tenantId: TenantId,
  id: ConversationId,
  name: string,
  count: number,
): Promise<{ conflicts: number }> {
  let expected = 0;
  let conflicts = 0;
  for (let written = 0; written < count; ) {
    const outcome = await append(store, tenantId, id, expected, `${name}:${written}`);
    if (outcome.kind === 'appended') {
      written += 1;
      expected = outcome.conversation.turn;
    } else if (outcome.kind === 'conflict') {
      conflicts += 1;
      expected = outcome.currentTurn;
      if (conflicts > 10_000) throw new Error(`${name} never got a turn in`);
    } else {
      throw new Error(`${name}: unexpected ${outcome.kind}`);
    }
  }
  return { conflicts };
}

/** Racing writers on two clients of one database: exactly one wins each turn. */
export function raceTests(ctx: SuiteContext): void {
  describe('append races', () => {
    it('of 24 appends racing at the same expected turn from two clients, exactly one is appended', async () => {
      const tenantId = freshTenant();
      const conversation = await conversationIn(ctx.store, tenantId);
      const audits = Array.from({ length: 24 }, () => recorder<AppendOutcome>());
      const outcomes = await Promise.all(
        audits.map((audit, i) =>
          append(i % 2 ? ctx.other : ctx.store, tenantId, conversation.id, 0, `racer ${i}`, audit.batch),
        ),
      );
      const appended = outcomes.filter((o) => o.kind === 'appended');
      expect(appended).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'conflict')).toHaveLength(23);
      for (const outcome of outcomes) {
        if (outcome.kind === 'conflict') {
          expect(outcome.currentTurn).toBe(1);
          expect(outcome.missed.map((t) => t.number)).toEqual([1]);
        }
      }
      const turns = await allTurns(ctx.other, tenantId, conversation.id);
      expect(turns).toHaveLength(1);
      const winner = appended[0]!;
      expect(winner.kind === 'appended' && turns[0]!.hash).toBe(winner.kind === 'appended' && winner.turn.hash);
      // Each racer's outcome reached its own audit batch, and the chain stayed whole.
      expect(audits.map((a) => a.outcomes.length)).toEqual(audits.map(() => 1));
      const audit = await verifyAudit(ctx.store, tenantId);
      expect(audit).toMatchObject({ ok: true, checked: 24 });
    });

    it('writers on both clients that retry on conflict end with turns 1..N and an intact hash chain', async () => {
      const tenantId = freshTenant();
      const conversation = await conversationIn(ctx.store, tenantId);
      const writers = 6;
      const each = 5;
      await Promise.all(
        Array.from({ length: writers }, (_, w) =>
          writer(w % 2 ? ctx.other : ctx.store, tenantId, conversation.id, `w${w}`, each),
        ),
      );
      const total = writers * each;
      const head = await ctx.store.getConversation(tenantId, conversation.id);
      expect(head?.turn).toBe(total);
      const turns = await allTurns(ctx.other, tenantId, conversation.id);
      expect(turns.map((t) => t.number)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      assertTurnChain(conversation, turns);
      expect(head?.headHash).toBe(turns.at(-1)?.hash);
      // Every writer's every turn landed exactly once.
      const texts = turns.map((t) => Buffer.from(t.content).toString('utf8')).sort();
      const wanted = Array.from({ length: writers }, (_, w) => Array.from({ length: each }, (_, n) => `w${w}:${n}`));
      expect(texts).toEqual(wanted.flat().sort());
    });
  });
}
