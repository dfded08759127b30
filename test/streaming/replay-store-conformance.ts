import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asConversationId, asTenantId, type TenantId } from '../../src/core/types.ts';
import { formatEventId } from '../../src/streaming/event-id.ts';
import type { ReplayStore, StoredEvent } from '../../src/streaming/replay-store.ts';

/** What a ReplayStore adapter's test file hands to {@link describeReplayStore}. */
export interface ReplayStoreFixture {
  store: ReplayStore;
  /** Two tenants the store accepts (e.g. created first, when it seals under their data keys). Default: made-up ids. */
  tenants?: readonly [TenantId, TenantId];
  close?: () => Promise<void>;
}

const conversation = asConversationId('cnv_conformance_1');
const otherConversation = asConversationId('cnv_conformance_2');
const ev = (turn: number, seq: number, data = `d${turn}.${seq}`): StoredEvent => ({
  id: formatEventId(turn, seq),
  event: 'delta',
  data,
});

/**
 * The suite every ReplayStore adapter passes. An adapter's test file calls it
 * with a factory that opens a fresh, empty store:
 *
 * @example
 * describeReplayStore('sqlite', async () => {
 *   const store = await openSqliteStoreForTest();
 *   return { store: store.streamEvents, close: () => store.close() };
 * });
 */
export function describeReplayStore(name: string, open: () => Promise<ReplayStoreFixture>): void {
  describe(`ReplayStore conformance: ${name}`, () => {
    let fixture: ReplayStoreFixture;
    let store: ReplayStore;
    let tenant: TenantId;
    let otherTenant: TenantId;
    beforeEach(async () => {
      fixture = await open();
      store = fixture.store;
      [tenant, otherTenant] = fixture.tenants ?? [asTenantId('tnt_conformance_a'), asTenantId('tnt_conformance_b')];
    });
    afterEach(async () => fixture.close?.());

    it('answers an empty conversation with no events and no last id', async () => {
      expect(await store.after(tenant, conversation, null, 10)).toEqual([]);
      expect(await store.lastId(tenant, conversation)).toBeNull();
    });

    it('returns events oldest first, strictly after the given id, at most limit of them', async () => {
      for (let seq = 0; seq < 5; seq += 1) await store.append(tenant, conversation, ev(3, seq));
      await store.append(tenant, conversation, ev(4, 0));
      const all = await store.after(tenant, conversation, null, 100);
      expect(all.map((e) => e.id)).toEqual([...[0, 1, 2, 3, 4].map((s) => formatEventId(3, s)), formatEventId(4, 0)]);
      const page = await store.after(tenant, conversation, formatEventId(3, 1), 2);
      expect(page).toEqual([ev(3, 2), ev(3, 3)]);
      expect(await store.after(tenant, conversation, formatEventId(4, 0), 10)).toEqual([]);
      expect(await store.lastId(tenant, conversation)).toBe(formatEventId(4, 0));
    });

    it('orders ids across a turn boundary and resumes from an id it does not hold', async () => {
      await store.append(tenant, conversation, ev(9, 999));
      await store.append(tenant, conversation, ev(10, 0));
      await store.append(tenant, conversation, ev(100, 0));
      const after = await store.after(tenant, conversation, formatEventId(9, 1000), 10);
      expect(after.map((e) => e.id)).toEqual([formatEventId(10, 0), formatEventId(100, 0)]);
      expect(await store.lastId(tenant, conversation)).toBe(formatEventId(100, 0));
    });

    it('refuses a duplicate id and keeps the original event', async () => {
      await store.append(tenant, conversation, ev(1, 0, 'original'));
      await expect(store.append(tenant, conversation, ev(1, 0, 'impostor'))).rejects.toThrow();
      expect(await store.after(tenant, conversation, null, 10)).toEqual([ev(1, 0, 'original')]);
    });

    it('keeps tenants and conversations apart, even with equal ids', async () => {
      await store.append(tenant, conversation, ev(1, 0, 'mine'));
      await store.append(otherTenant, conversation, ev(1, 0, 'other tenant'));
      await store.append(tenant, otherConversation, ev(2, 0, 'other conversation'));
      expect(await store.after(tenant, conversation, null, 10)).toEqual([ev(1, 0, 'mine')]);
      expect(await store.after(otherTenant, conversation, null, 10)).toEqual([ev(1, 0, 'other tenant')]);
      expect(await store.lastId(otherTenant, otherConversation)).toBeNull();
      await store.prune(otherTenant, conversation, 1);
      expect(await store.after(tenant, otherConversation, null, 10)).toEqual([ev(2, 0, 'other conversation')]);
    });

    it('round-trips data exactly: line breaks, unicode, 64 KiB', async () => {
      const data = `line one\nline two\r\nthree\rfour 🩺 é ${'x'.repeat(64 * 1024)}`;
      const event = { id: formatEventId(5, 1), event: 'done', data };
      await store.append(tenant, conversation, event);
      expect(await store.after(tenant, conversation, null, 1)).toEqual([event]);
    });

    it('prunes all but the newest keepLast events of one conversation', async () => {
      for (let seq = 0; seq < 10; seq += 1) await store.append(tenant, conversation, ev(7, seq));
      await store.append(tenant, otherConversation, ev(7, 0));
      await store.prune(tenant, conversation, 3);
      expect((await store.after(tenant, conversation, null, 100)).map((e) => e.id)).toEqual(
        [7, 8, 9].map((s) => formatEventId(7, s)),
      );
      expect(await store.lastId(tenant, conversation)).toBe(formatEventId(7, 9));
      expect(await store.after(tenant, otherConversation, null, 10)).toHaveLength(1);
      await store.prune(tenant, conversation, 10);
      expect(await store.after(tenant, conversation, null, 100)).toHaveLength(3);
      await store.prune(tenant, asConversationId('cnv_conformance_empty'), 1);
    });
  });
}
