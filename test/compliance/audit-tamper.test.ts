import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

/** A populated app: one tenant chain of 40+ events with checkpoints every 10. */
async function populated(): Promise<{ t: TestApp; tenantId: string; adminToken: string }> {
  const t = await buildTestApp({ config: { auditCheckpointEvery: 10 } });
  const tenant = await t.createTenant();
  const adminToken = (await t.token(tenant.apiKey, 'auditor', 'admin')).access_token;
  await t.conversationWithTurns({ tenant, subject: 'patient-1', turns: 30 });
  // Checkpoints are signed just after the writes that cross each threshold.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await t.services.audit.checkpoint(tenant.tenantId as never);
  return { t, tenantId: tenant.tenantId, adminToken };
}

function attacker(t: TestApp): Database.Database {
  const db = new Database(t.dbFile);
  db.exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;');
  return db;
}

async function verify(t: TestApp, adminToken: string) {
  const res = await t.request({ method: 'GET', url: '/v1/audit/verify', token: adminToken });
  expect(res.statusCode).toBe(200);
  return res.json() as { ok: boolean; checked: number; firstBad?: { seq: number; reason: string } };
}

describe('the audit trail is tamper-evident', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it('a clean chain verifies, over HTTP and from the CLI', async () => {
    const p = await populated();
    t = p.t;
    const result = await verify(t, p.adminToken);
    expect(result).toMatchObject({ ok: true });
    expect(result.checked).toBeGreaterThan(30);
    const out: string[] = [];
    const code = await main(['audit', 'verify'], {
      env: { CONTINUUM_DATA_DIR: t.dataDir },
      out: (line) => out.push(line),
      err: (line) => out.push(line),
    });
    expect(code).toBe(0);
    expect(out.join('\n')).toContain(`${p.tenantId}: ok`);
    expect(out.join('\n')).toContain('tnt_system: ok');
  });

  it('the database refuses UPDATE and DELETE of audit rows', async () => {
    t = (await populated()).t;
    const db = new Database(t.dbFile);
    expect(() => db.prepare("UPDATE audit_events SET outcome = 'denied' WHERE seq = 3").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_events WHERE seq = 3').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_checkpoints').run()).toThrow(/append-only/);
    db.close();
  });

  it('an edited event is named', async () => {
    const p = await populated();
    t = p.t;
    const db = attacker(t);
    db.prepare("UPDATE audit_events SET outcome = 'failure' WHERE tenant_id = ? AND seq = 12").run(p.tenantId);
    db.close();
    expect((await verify(t, p.adminToken)).firstBad).toMatchObject({ seq: 12, reason: 'hash_mismatch' });
  });

  it('a deleted event is named', async () => {
    const p = await populated();
    t = p.t;
    const db = attacker(t);
    db.prepare('DELETE FROM audit_events WHERE tenant_id = ? AND seq = 12').run(p.tenantId);
    db.close();
    const result = await verify(t, p.adminToken);
    expect(result.ok).toBe(false);
    expect(result.firstBad?.seq).toBe(12);
  });

  it('two reordered events are named', async () => {
    const p = await populated();
    t = p.t;
    const db = attacker(t);
    const swap = db.transaction(() => {
      db.prepare('UPDATE audit_events SET seq = -1 WHERE tenant_id = ? AND seq = 12').run(p.tenantId);
      db.prepare('UPDATE audit_events SET seq = 12 WHERE tenant_id = ? AND seq = 13').run(p.tenantId);
      db.prepare('UPDATE audit_events SET seq = 13 WHERE tenant_id = ? AND seq = -1').run(p.tenantId);
    });
    swap();
    db.close();
    const result = await verify(t, p.adminToken);
    expect(result.ok).toBe(false);
    expect(result.firstBad?.seq).toBe(12);
  });

  it('a cut tail is caught by the signed checkpoints, and the CLI exits 1 naming the place', async () => {
    const p = await populated();
    t = p.t;
    const head = (await t.services.store.auditHead(p.tenantId as never))!.seq;
    const db = attacker(t);
    db.prepare('DELETE FROM audit_events WHERE tenant_id = ? AND seq > ?').run(p.tenantId, head - 15);
    db.close();
    const out: string[] = [];
    const code = await main(['audit', 'verify', '--tenant', p.tenantId], {
      env: { CONTINUUM_DATA_DIR: t.dataDir },
      out: (line) => out.push(line),
      err: (line) => out.push(line),
    });
    expect(code).toBe(1);
    expect(out.join('\n')).toContain(`FAILED at seq ${head - 14}: truncated`);
    // Events written after the cut reuse its sequence numbers; the checkpoints still expose it.
    const result = await verify(t, p.adminToken);
    expect(result.ok).toBe(false);
  });

  it('a forged checkpoint is refused', async () => {
    const p = await populated();
    t = p.t;
    const db = new Database(t.dbFile);
    db.prepare(
      "INSERT INTO audit_checkpoints (tenant_id, seq, hash, at, kid, signature) SELECT tenant_id, seq, hash, at, kid, 'AAAA' FROM audit_events, (SELECT kid FROM signing_keys LIMIT 1) WHERE tenant_id = ? AND seq = 5",
    ).run(p.tenantId);
    db.close();
    expect((await verify(t, p.adminToken)).firstBad).toMatchObject({ reason: 'bad_checkpoint_signature' });
  });
});

describe('audit reports and exports', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it('report counts by action, actor and outcome; events export as FHIR R4 AuditEvent', async () => {
    const p = await populated();
    t = p.t;
    const report = (await t.request({ method: 'GET', url: '/v1/audit/report', token: p.adminToken })).json();
    expect(report.byAction['turn.append']).toBe(30);
    expect(report.byActor['subject:patient-1']).toBeGreaterThanOrEqual(31);
    expect(report.byOutcome.success).toBe(report.total);
    const fhir = await t.request({ method: 'GET', url: '/v1/audit/events?format=fhir&limit=5', token: p.adminToken });
    expect(fhir.headers['content-type']).toContain('application/fhir+json');
    const bundle = fhir.json();
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(bundle.entry).toHaveLength(5);
    expect(bundle.entry[0].resource).toMatchObject({ resourceType: 'AuditEvent' });
    const user = await t.token((await t.createTenant()).apiKey, 'someone');
    const denied = await t.request({ method: 'GET', url: '/v1/audit/events', token: user.access_token });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('insufficient_scope');
  });

  it('the CLI exports FHIR NDJSON and reports over a date range', async () => {
    const p = await populated();
    t = p.t;
    const out: string[] = [];
    const io = { env: { CONTINUUM_DATA_DIR: t.dataDir }, out: (l: string) => out.push(l), err: () => {} };
    expect(await main(['audit', 'export', '--tenant', p.tenantId, '--format', 'fhir'], io)).toBe(0);
    const resources = out.map((line) => JSON.parse(line));
    expect(resources.length).toBeGreaterThan(30);
    expect(resources.every((r) => r.resourceType === 'AuditEvent')).toBe(true);
    out.length = 0;
    expect(await main(['audit', 'report', '--tenant', p.tenantId, '--from', '2000-01-01T00:00:00Z'], io)).toBe(0);
    expect(JSON.parse(out.join('\n'))[p.tenantId].byAction['turn.append']).toBe(30);
    expect(await main(['audit', 'report', '--from', 'yesterday'], io)).toBe(2);
  });
});
