import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import {
  createLocalKeyProvider,
  createTenantCipher,
  type KeyProvider,
  type TenantCipher,
} from '../../../src/crypto/index.ts';
import type { Store } from '../../../src/store/port.ts';
import { allTurns, bytes, conversationIn, freshTenant, iso, noAudit, plainTurn } from '../fixtures.ts';
import type { SuiteContext } from './suite-context.ts';

/** Sealed content through the store: what the cipher seals comes back byte-exact and opens. */
export function encryptionTests(ctx: SuiteContext): void {
  describe('encrypted content', () => {
    let keys: KeyProvider;
    const cipherOver = (store: Store): TenantCipher =>
      createTenantCipher({ keys, repository: store, clock: new FakeClock() });

    beforeAll(async () => {
      keys = await createLocalKeyProvider({ masterKey: randomBytes(32).toString('base64') });
    });

    it('a turn sealed by one node is stored byte-exact and opens on another node', async () => {
      const tenantId = freshTenant();
      const conversation = await conversationIn(ctx.store, tenantId);
      const nodeA = cipherOver(ctx.store);
      const nodeB = cipherOver(ctx.other);
      await nodeA.ensureLoaded(tenantId);
      const text = 'Metformin 500 mg twice daily; allergic to penicillin. ☤ — ünïcödé';
      let sealed: Buffer | undefined;
      const outcome = await ctx.store.appendTurn(
        tenantId,
        {
          conversationId: conversation.id,
          expectedTurn: 0,
          missedLimit: 10,
          build: (number, prevHash) => {
            const turn = plainTurn(conversation.id, number, prevHash, text);
            sealed = nodeA.sealSync({ tenantId, conversationId: conversation.id, field: 'turn', turn: number }, text);
            return { ...turn, content: sealed };
          },
        },
        noAudit(),
      );
      expect(outcome.kind).toBe('appended');
      const [stored] = await allTurns(ctx.other, tenantId, conversation.id);
      expect(Buffer.from(stored!.content).equals(sealed!)).toBe(true);
      expect(Buffer.from(stored!.content).includes(bytes('penicillin'))).toBe(false);
      const ctxOfTurn = { tenantId, conversationId: conversation.id, field: 'turn', turn: 1 };
      expect(await nodeB.open(ctxOfTurn, Buffer.from(stored!.content))).toBe(text);
      // Bound to its place: the same bytes under another turn number do not open.
      await expect(nodeB.open({ ...ctxOfTurn, turn: 2 }, Buffer.from(stored!.content))).rejects.toThrow();
    });

    it('two nodes sealing for a new tenant at once agree on one data key', async () => {
      const tenantId = freshTenant();
      const nodeA = cipherOver(ctx.store);
      const nodeB = cipherOver(ctx.other);
      const place = { tenantId, conversationId: 'cnv_x', field: 'summary' };
      const [fromA, fromB] = await Promise.all([nodeA.seal(place, 'from A'), nodeB.seal(place, 'from B')]);
      expect(await ctx.store.listDataKeys(tenantId)).toHaveLength(1);
      expect(await nodeB.open(place, fromA)).toBe('from A');
      expect(await nodeA.open(place, fromB)).toBe('from B');
      expect(await cipherOver(ctx.store).open(place, fromA)).toBe('from A');
    });

    it('every byte value round-trips in turns, context state and stream events', async () => {
      const tenantId = freshTenant();
      const conversation = await conversationIn(ctx.store, tenantId);
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const blob = Buffer.concat([all, randomBytes(4096), Buffer.alloc(3)]);
      await ctx.store.appendTurn(
        tenantId,
        {
          conversationId: conversation.id,
          expectedTurn: 0,
          missedLimit: 10,
          build: (number, prevHash) => ({ ...plainTurn(conversation.id, number, prevHash, 'bytes'), content: blob }),
        },
        noAudit(),
      );
      await ctx.store.putContextState(
        tenantId,
        conversation.id,
        { version: 1, throughTurn: 1, state: blob, updatedAt: iso() },
        null,
      );
      await ctx.store.appendStreamEvent(tenantId, conversation.id, { id: '0001', event: 'delta', data: blob });

      const [turn] = await allTurns(ctx.other, tenantId, conversation.id);
      expect(Buffer.from(turn!.content).equals(blob)).toBe(true);
      const state = await ctx.other.getContextState(tenantId, conversation.id);
      expect(Buffer.from(state!.state).equals(blob)).toBe(true);
      const [event] = await ctx.other.listStreamEvents(tenantId, conversation.id, null, 10);
      expect(Buffer.from(event!.data).equals(blob)).toBe(true);
    });
  });
}
