import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../src/store/adapters/sqlite/sqlite-store.ts';
import { describeStore } from './conformance.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'continuum-store-'));
const filename = path.join(dir, 'continuum.db');

describeStore('sqlite', {
  async open() {
    const store = createSqliteStore({ filename });
    await store.migrate();
    return store;
  },
  async destroy() {
    rmSync(dir, { recursive: true, force: true });
  },
  async tamperAudit(tenantId, seq) {
    const db = new Database(filename);
    try {
      db.prepare("UPDATE audit_events SET outcome = 'denied' WHERE tenant_id = ? AND seq = ?").run(tenantId, seq);
      db.prepare('DELETE FROM audit_events WHERE tenant_id = ? AND seq = ?').run(tenantId, seq);
    } finally {
      db.close();
    }
  },
});
