import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

const MARKERS = ['QUOKKA-lisinopril-20mg', 'QUOKKA-title', 'QUOKKA-metadata'];

describe('encryption at rest (ADR-008)', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it('the database files hold none of the message text, titles or metadata in plaintext', async () => {
    t = await buildTestApp();
    const { apiKey } = await t.createTenant();
    const { access_token: token } = await t.token(apiKey, 'patient-1');
    const created = await t.request({
      method: 'POST',
      url: '/v1/conversations',
      token,
      body: { title: MARKERS[1], metadata: { note: MARKERS[2] } },
    });
    const id = created.json().id;
    for (let n = 0; n < 20; n++) {
      await t.request({
        method: 'POST',
        url: `/v1/conversations/${id}/turns`,
        token,
        body: { role: 'user', content: `I take ${MARKERS[0]} every morning (${n})`, expectedTurn: n },
      });
    }
    const read = await t.request({ method: 'GET', url: `/v1/conversations/${id}`, token });
    expect(read.json().title).toBe(MARKERS[1]);
    const files = readdirSync(t.dataDir).filter((name) => name.startsWith('continuum.db'));
    expect(files).toContain('continuum.db-wal');
    for (const name of files) {
      const raw = readFileSync(path.join(t.dataDir, name));
      for (const marker of [...MARKERS, 'every morning']) {
        expect(raw.includes(marker), `${name} contains ${marker}`).toBe(false);
        expect(raw.includes(Buffer.from(marker, 'utf16le')), `${name} contains ${marker} (utf16)`).toBe(false);
      }
    }
  });

  it("a turn's ciphertext swapped with another patient's is detected on load, never shown", async () => {
    t = await buildTestApp();
    const tenant = await t.createTenant();
    const a = await t.conversationWithTurns({
      tenant,
      subject: 'patient-a',
      content: ['A one', 'A secret two', 'A three'],
    });
    const b = await t.conversationWithTurns({ tenant, subject: 'patient-b', content: ['B one', 'B two', 'B three'] });
    const db = new Database(t.dbFile);
    const blob = (id: string) =>
      (db.prepare('SELECT content FROM turns WHERE conversation_id = ? AND number = 2').get(id) as { content: Buffer })
        .content;
    const [blobA, blobB] = [blob(a.id), blob(b.id)];
    const put = db.prepare('UPDATE turns SET content = ? WHERE conversation_id = ? AND number = 2');
    put.run(blobB, a.id);
    put.run(blobA, b.id);
    db.close();
    // A fresh node (nothing verified yet) and the running one both refuse.
    const fresh = await buildTestApp({ dataDir: t.dataDir });
    try {
      for (const [app, who] of [
        [fresh, b],
        [t, b],
        [t, a],
      ] as const) {
        const res = await app.request({ method: 'GET', url: `/v1/conversations/${who.id}/turns`, token: who.token });
        expect(res.statusCode).toBe(500);
        expect(res.json().code).toBe('state_corrupt');
        expect(res.body).not.toContain('secret');
        expect(res.body).not.toContain('B two');
      }
    } finally {
      await fresh.close();
    }
  });

  it('keys rotate under concurrent appends: no request fails, every turn still decrypts afterwards', async () => {
    t = await buildTestApp({ config: { maxSessionsPerTenant: 0 } });
    const tenants = await Promise.all([t.createTenant(), t.createTenant()]);
    const writers = await Promise.all(
      tenants.flatMap((tenant) =>
        [0, 1, 2].map((n) => t.conversationWithTurns({ tenant, subject: `patient-${n}`, content: ['first'] })),
      ),
    );
    const masterKeysBefore = new Set(
      (new Database(t.dbFile).prepare('SELECT master_key_id FROM data_keys').all() as { master_key_id: string }[]).map(
        (row) => row.master_key_id,
      ),
    );
    expect(masterKeysBefore.size).toBe(1);

    let rotating = true;
    const statuses: number[] = [];
    const appends = writers.map(async ({ id, token }) => {
      let turn = 1;
      while (rotating || turn < 15) {
        const res = await t.request({
          method: 'POST',
          url: `/v1/conversations/${id}/turns`,
          token,
          body: { role: 'user', content: `during rotation ${turn}`, expectedTurn: turn },
        });
        statuses.push(res.statusCode);
        turn++;
      }
      return turn;
    });
    const out: string[] = [];
    const code = await main(['keys', 'rotate'], {
      env: { CONTINUUM_DATA_DIR: t.dataDir },
      out: (line) => out.push(line),
      err: () => {},
    });
    rotating = false;
    const finalTurns = await Promise.all(appends);
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/data keys re-wrapped: 2/);
    expect(statuses.every((status) => status === 201)).toBe(true);

    const after = new Database(t.dbFile);
    const masterKeysAfter = new Set(
      (after.prepare('SELECT master_key_id FROM data_keys').all() as { master_key_id: string }[]).map(
        (r) => r.master_key_id,
      ),
    );
    after.close();
    expect(masterKeysAfter.size).toBe(1);
    expect([...masterKeysAfter][0]).not.toBe([...masterKeysBefore][0]);

    // A node started after the rotation decrypts every turn.
    const fresh = await buildTestApp({ dataDir: t.dataDir });
    try {
      for (const [i, { id, token }] of writers.entries()) {
        const res = await fresh.request({ method: 'GET', url: `/v1/conversations/${id}/turns?limit=500`, token });
        expect(res.statusCode).toBe(200);
        expect(res.json().items).toHaveLength(finalTurns[i]!);
      }
    } finally {
      await fresh.close();
    }
  });
});
