import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChainVerifier } from '../../src/conversations/chain-verifier.ts';
import { asConversationId, asTenantId } from '../../src/core/types.ts';
import { createTenantCipher } from '../../src/crypto/data-keys.ts';
import { createLocalKeyProvider } from '../../src/crypto/local-key-provider.ts';
import { MASTER_KEY_FILE } from '../../src/server/runtime.ts';
import { createSqliteStore } from '../../src/store/adapters/sqlite/sqlite-store.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

describe('ChainVerifier on a conversation other nodes are writing', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it('a row read just before another node appended still verifies (no false state_corrupt)', async () => {
    t = await buildTestApp();
    const content = (n: number) => `t${n}`;
    const { tenantId, token, id } = await t.conversationWithTurns({ turns: 1, content });
    const append = (n: number) =>
      t.request({
        method: 'POST',
        url: `/v1/conversations/${id}/turns`,
        token,
        body: { role: 'user', content: content(n), expectedTurn: n },
      });

    // A second node: its own connection, cipher and verifier on the same files.
    const store = createSqliteStore({ filename: t.dbFile });
    await store.migrate();
    try {
      const keys = await createLocalKeyProvider({ keyFile: path.join(t.dataDir, MASTER_KEY_FILE) });
      const verifier = new ChainVerifier({
        store,
        cipher: createTenantCipher({ keys, repository: store, clock: t.clock }),
      });
      const stale = (await store.getConversation(asTenantId(tenantId), asConversationId(id)))!;
      expect(stale.turn).toBe(1);
      await append(1);
      await append(2);
      await expect(verifier.verifyHead(stale)).resolves.toBeUndefined();
      // And the other way round: the verifier has seen turn 3, then meets a stale row at turn 1.
      await verifier.verifyHead((await store.getConversation(asTenantId(tenantId), asConversationId(id)))!);
      await expect(verifier.verifyHead(stale)).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe('ChainVerifier keeps the rows it opened', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  /** A second node's verifier over the app's files, counting decryptions, with the conversation's stored rows. */
  async function setup() {
    t = await buildTestApp();
    const { tenantId, id } = await t.conversationWithTurns({
      turns: 3,
      content: (n) => `I take metformin, turn ${n + 1}`,
    });
    const store = createSqliteStore({ filename: t.dbFile });
    await store.migrate();
    const keys = await createLocalKeyProvider({ keyFile: path.join(t.dataDir, MASTER_KEY_FILE) });
    const cipher = createTenantCipher({ keys, repository: store, clock: t.clock });
    let decryptions = 0;
    const openSync = cipher.openSync.bind(cipher);
    cipher.openSync = (...args: Parameters<typeof cipher.openSync>) => {
      decryptions++;
      return openSync(...args);
    };
    const tenant = asTenantId(tenantId);
    await cipher.ensureLoaded(tenant);
    const conversation = (await store.getConversation(tenant, asConversationId(id)))!;
    const rows = await store.listTurns(tenant, conversation.id, 0, 10);
    return {
      store,
      tenant,
      conversation,
      rows,
      verifier: new ChainVerifier({ store, cipher }),
      decryptions: () => decryptions,
    };
  }

  it('opens a row equal to one it has checked without decrypting it again, to the same view', async () => {
    const { store, tenant, conversation, rows, verifier, decryptions } = await setup();
    try {
      const first = verifier.openRange(tenant, rows, conversation.genesisHash);
      expect(decryptions()).toBe(3);
      const again = verifier.openRange(
        tenant,
        await store.listTurns(tenant, conversation.id, 0, 10),
        conversation.genesisHash,
      );
      expect(again).toEqual(first);
      expect(decryptions()).toBe(3);
      expect(again[1]!.content).toBe('I take metformin, turn 2');
    } finally {
      await store.close();
    }
  });

  it('checks in full a row that differs in one byte, its hash, time or role, and refuses the edit', async () => {
    const { store, tenant, conversation, rows, verifier, decryptions } = await setup();
    try {
      verifier.openRange(tenant, rows, conversation.genesisHash);
      const row = rows[1]!;
      const flipped = Uint8Array.from(row.content);
      flipped[flipped.length - 1]! ^= 1;
      const edits = [
        { ...row, content: flipped },
        { ...row, hash: `${row.hash.slice(0, -1)}${row.hash.endsWith('0') ? '1' : '0'}` },
        { ...row, createdAt: new Date(Date.parse(row.createdAt) + 1000).toISOString() },
        { ...row, role: 'assistant' as const },
      ];
      for (const edited of edits) {
        const before = decryptions();
        expect(() => verifier.open(tenant, edited, rows[0]!.hash)).toThrow(/integrity check/);
        expect(decryptions()).toBe(before + 1);
      }
      // The untouched row still opens from what was kept.
      expect(verifier.open(tenant, row, rows[0]!.hash).content).toBe('I take metformin, turn 2');
    } finally {
      await store.close();
    }
  });

  it('a range opened with keep = false (indexing the history) keeps nothing', async () => {
    const { store, tenant, conversation, rows, verifier, decryptions } = await setup();
    try {
      verifier.openRange(tenant, rows, conversation.genesisHash, false);
      verifier.openRange(tenant, rows, conversation.genesisHash);
      expect(decryptions()).toBe(6);
    } finally {
      await store.close();
    }
  });

  it('a walk over the whole chain keeps nothing', async () => {
    const { store, tenant, conversation, rows, verifier, decryptions } = await setup();
    try {
      await verifier.verifyHead(conversation);
      expect(decryptions()).toBe(3);
      verifier.openRange(tenant, rows, conversation.genesisHash);
      expect(decryptions()).toBe(6);
    } finally {
      await store.close();
    }
  });
});
