import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SQLITE_FILE } from '../../src/server/runtime.ts';
import { CHECKPOINT_EVERY_COMMITS } from '../../src/store/adapters/sqlite/checkpointer.ts';
import {
  callJson,
  PROCESS_ADMIN_TOKEN,
  type ServerProcess,
  startServerProcess,
  stopAllServerProcesses,
  tenantWithToken,
} from '../helpers/server-process.ts';
import { parseMetrics, sumOf } from './support.ts';

/** One conversation with enough appends for a background checkpoint (each append is at least one commit). */
async function appendEnoughForACheckpoint(server: ServerProcess, tenant: string): Promise<void> {
  const { token } = await tenantWithToken(server.url, tenant, 'patient-checkpoints');
  const created = await callJson<{ id: string }>(server.url, 'POST', '/v1/conversations', {
    token,
    body: { title: 'checkpoints' },
  });
  for (let turn = 0; turn < CHECKPOINT_EVERY_COMMITS; turn++) {
    const appended = await callJson(server.url, 'POST', `/v1/conversations/${created.body.id}/turns`, {
      token,
      body: { role: 'user', content: `Blood pressure reading ${turn}: 128 over 82.`, expectedTurn: turn },
    });
    expect(appended.status).toBe(201);
  }
}

const dataDirs: string[] = [];
afterAll(async () => {
  await stopAllServerProcesses();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

async function startOnNewDir(): Promise<{ server: ServerProcess; dataDir: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-checkpoint-metrics-'));
  dataDirs.push(dataDir);
  return { server: await startServerProcess({ dataDir }), dataDir };
}

describe('continuum serve on SQLite: background WAL checkpoints in GET /metrics', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    ({ server } = await startOnNewDir());
  }, 60_000);

  it('counts the checkpoints the thread ran, by outcome, and times them', async () => {
    await appendEnoughForACheckpoint(server, 'checkpoint-metrics');
    await vi.waitFor(
      async () => {
        const metrics = parseMetrics(await (await fetch(`${server.url}/metrics`)).text());
        const ran = ['complete', 'partial', 'busy'].map((o) =>
          sumOf(metrics, 'continuum_sqlite_checkpoints_total', `outcome="${o}"`),
        );
        expect(ran.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
        expect(metrics.get('continuum_sqlite_checkpoint_seconds_count')).toBeGreaterThanOrEqual(1);
        expect(sumOf(metrics, 'continuum_sqlite_checkpoints_total', 'outcome="handed_back"')).toBe(0);
        expect(sumOf(metrics, 'continuum_sqlite_checkpoints_total', 'outcome="failed"')).toBe(0);
      },
      { timeout: 10_000, interval: 100 },
    );
  }, 60_000);
});

describe('continuum serve on SQLite: checkpoints handed back to SQLite raise the sqlite_checkpoints alert', () => {
  it('fires when the checkpoint thread cannot open the database, and says why', async () => {
    const { server, dataDir } = await startOnNewDir();
    // The server keeps its open file; the thread, which opens the path when first needed, finds nothing there.
    unlinkSync(path.join(dataDir, SQLITE_FILE));
    await appendEnoughForACheckpoint(server, 'checkpoint-alert');
    await vi.waitFor(
      async () => {
        const alerts = await callJson<{ firing: { id: string; severity: string; detail: string }[] }>(
          server.url,
          'GET',
          '/v1/admin/alerts',
          { token: PROCESS_ADMIN_TOKEN },
        );
        expect(alerts.body.firing.map((a) => [a.id, a.severity])).toEqual([['sqlite_checkpoints', 'warning']]);
        expect(alerts.body.firing[0]!.detail).toContain('checkpoints went back to SQLite');
        expect(alerts.body.firing[0]!.detail).toContain(`cannot open ${path.join(dataDir, SQLITE_FILE)}`);
      },
      { timeout: 10_000, interval: 100 },
    );
    const metrics = parseMetrics(await (await fetch(`${server.url}/metrics`)).text());
    expect(sumOf(metrics, 'continuum_sqlite_checkpoints_total', 'outcome="handed_back"')).toBe(1);
    expect(sumOf(metrics, 'continuum_alerts_firing', 'alert="sqlite_checkpoints"')).toBe(1);
  }, 60_000);
});
