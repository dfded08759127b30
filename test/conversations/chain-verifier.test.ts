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
    const { apiKey, tenantId } = await t.createTenant();
    const { access_token: token } = await t.token(apiKey, 'patient-1');
    const id = (await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).json().id;
    const append = (n: number) =>
      t.request({
        method: 'POST',
        url: `/v1/conversations/${id}/turns`,
        token,
        body: { role: 'user', content: `t${n}`, expectedTurn: n },
      });
    await append(0);

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
