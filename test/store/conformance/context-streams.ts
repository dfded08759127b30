import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors/index.ts';
import type { ContextStateRecord, StreamEventRecord } from '../../../src/store/port.ts';
import { allAuditEvents, bytes, conversationIn, freshConversationId, freshTenant, iso, recorder } from '../fixtures.ts';
import type { SuiteContext } from './suite-context.ts';

const state = (version: number, text: string): ContextStateRecord => ({
  version,
  throughTurn: version * 2,
  state: bytes(text),
  updatedAt: iso(version),
});

const plain = (record: ContextStateRecord | null) =>
  record === null ? null : { ...record, state: Buffer.from(record.state).toString('utf8') };

const event = (id: string, name = 'delta'): StreamEventRecord => ({ id, event: name, data: bytes(`data of ${id}`) });
const ids = (events: StreamEventRecord[]) => events.map((e) => e.id);

/** Working-context state (optimistic versions) and the SSE replay buffer. */
export function contextAndStreamTests(ctx: SuiteContext): void {
  describe('working context state', () => {
    it('inserts with a null expected version once, then replaces only from the current version', async () => {
      const tenantId = freshTenant();
      const { id } = await conversationIn(ctx.store, tenantId);
      expect(await ctx.store.getContextState(tenantId, id)).toBeNull();
      expect(await ctx.store.putContextState(tenantId, id, state(1, 'one'), null)).toBe(true);
      expect(await ctx.other.putContextState(tenantId, id, state(1, 'also one'), null)).toBe(false);
      expect(plain(await ctx.other.getContextState(tenantId, id))).toEqual(plain(state(1, 'one')));

      expect(await ctx.other.putContextState(tenantId, id, state(2, 'two'), 1)).toBe(true);
      expect(await ctx.store.putContextState(tenantId, id, state(2, 'stale'), 1)).toBe(false);
      expect(await ctx.store.putContextState(tenantId, id, state(4, 'ahead'), 3)).toBe(false);
      expect(plain(await ctx.store.getContextState(tenantId, id))).toEqual(plain(state(2, 'two')));
    });

    it('of two writers racing from the same version, exactly one wins and its state is kept', async () => {
      const tenantId = freshTenant();
      const { id } = await conversationIn(ctx.store, tenantId);
      await ctx.store.putContextState(tenantId, id, state(1, 'base'), null);
      const results = await Promise.all([
        ctx.store.putContextState(tenantId, id, state(2, 'from A'), 1),
        ctx.other.putContextState(tenantId, id, state(2, 'from B'), 1),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results[0] ? 'from A' : 'from B';
      expect(plain(await ctx.other.getContextState(tenantId, id))).toEqual(plain(state(2, winner)));

      const [x, y] = [await conversationIn(ctx.store, tenantId), await conversationIn(ctx.store, tenantId)];
      const first = await Promise.all([
        ctx.store.putContextState(tenantId, x.id, state(1, 'x'), null),
        ctx.other.putContextState(tenantId, y.id, state(1, 'y'), null),
      ]);
      expect(first).toEqual([true, true]);
    });

    it('an audited put writes its events with the outcome, won or lost', async () => {
      const tenantId = freshTenant();
      const { id } = await conversationIn(ctx.store, tenantId);
      const won = recorder<boolean>();
      const lost = recorder<boolean>();
      expect(await ctx.store.putContextState(tenantId, id, state(1, 'one'), null, won.batch)).toBe(true);
      expect(await ctx.other.putContextState(tenantId, id, state(1, 'one'), null, lost.batch)).toBe(false);
      expect([...won.outcomes, ...lost.outcomes]).toEqual([true, false]);
      const markers = (await allAuditEvents(ctx.store, tenantId)).map((e) => e.resource.id);
      expect(markers).toEqual([won.marker, lost.marker]);
    });
  });

  describe('stream replay buffer', () => {
    it('appends events and lists them oldest first, after an id, at most limit', async () => {
      const tenantId = freshTenant();
      const id = freshConversationId();
      for (const n of ['0001', '0002', '0003', '0004', '0005'])
        await ctx.store.appendStreamEvent(tenantId, id, event(n));
      const listed = await ctx.other.listStreamEvents(tenantId, id, null, 100);
      expect(listed.map((e) => ({ ...e, data: Buffer.from(e.data) }))).toEqual(
        ['0001', '0002', '0003', '0004', '0005'].map((n) => event(n)),
      );
      expect(ids(await ctx.other.listStreamEvents(tenantId, id, '0002', 100))).toEqual(['0003', '0004', '0005']);
      expect(ids(await ctx.other.listStreamEvents(tenantId, id, '0002', 2))).toEqual(['0003', '0004']);
      expect(ids(await ctx.other.listStreamEvents(tenantId, id, '0005', 100))).toEqual([]);
      // Ids compare as text: an id between two stored ones lists from the next.
      expect(ids(await ctx.store.listStreamEvents(tenantId, id, '00025', 100))).toEqual(['0003', '0004', '0005']);
      expect(await ctx.store.lastStreamEventId(tenantId, id)).toBe('0005');
      expect(await ctx.store.lastStreamEventId(tenantId, freshConversationId())).toBeNull();
      expect(await ctx.store.listStreamEvents(tenantId, freshConversationId(), null, 10)).toEqual([]);
    });

    it('refuses a duplicate id with an AppError and keeps the first event', async () => {
      const tenantId = freshTenant();
      const id = freshConversationId();
      await ctx.store.appendStreamEvent(tenantId, id, event('0001', 'first'));
      const error = await ctx.other.appendStreamEvent(tenantId, id, event('0001', 'second')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      const listed = await ctx.store.listStreamEvents(tenantId, id, null, 10);
      expect(listed.map((e) => e.event)).toEqual(['first']);
      // The same id in another conversation is another event.
      await expect(
        ctx.store.appendStreamEvent(tenantId, freshConversationId(), event('0001')),
      ).resolves.toBeUndefined();
    });

    it('prune keeps the newest N events of that conversation only', async () => {
      const tenantId = freshTenant();
      const id = freshConversationId();
      const neighbour = freshConversationId();
      for (let n = 1; n <= 6; n++) {
        await ctx.store.appendStreamEvent(tenantId, id, event(`e${n}`));
        await ctx.other.appendStreamEvent(tenantId, neighbour, event(`e${n}`));
      }
      await ctx.other.pruneStreamEvents(tenantId, id, 10);
      expect(ids(await ctx.store.listStreamEvents(tenantId, id, null, 100))).toHaveLength(6);
      await ctx.other.pruneStreamEvents(tenantId, id, 2);
      expect(ids(await ctx.store.listStreamEvents(tenantId, id, null, 100))).toEqual(['e5', 'e6']);
      expect(await ctx.store.lastStreamEventId(tenantId, id)).toBe('e6');
      await ctx.store.pruneStreamEvents(tenantId, id, 1);
      expect(ids(await ctx.store.listStreamEvents(tenantId, id, null, 100))).toEqual(['e6']);
      expect(ids(await ctx.store.listStreamEvents(tenantId, neighbour, null, 100))).toHaveLength(6);
      await ctx.store.pruneStreamEvents(tenantId, freshConversationId(), 1);
    });

    it('prune refuses keepLast below 1 with a TypeError', async () => {
      await expect(ctx.store.pruneStreamEvents(freshTenant(), freshConversationId(), 0)).rejects.toBeInstanceOf(
        TypeError,
      );
    });
  });
}
