import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CHECKPOINT_EVERY_COMMITS } from '../../src/store/adapters/sqlite/checkpointer.ts';
import {
  callJson,
  type ServerProcess,
  startServerProcess,
  stopAllServerProcesses,
  tenantWithToken,
} from '../helpers/server-process.ts';
import { parseMetrics, sumOf } from './support.ts';

describe('continuum serve on SQLite: background WAL checkpoints in GET /metrics', () => {
  let dataDir: string;
  let server: ServerProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-checkpoint-metrics-'));
    server = await startServerProcess({ dataDir });
  }, 60_000);

  afterAll(async () => {
    await stopAllServerProcesses();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts the checkpoints the thread ran, by outcome, and times them', async () => {
    const { token } = await tenantWithToken(server.url, 'checkpoint-metrics', 'patient-checkpoints');
    const created = await callJson<{ id: string }>(server.url, 'POST', '/v1/conversations', {
      token,
      body: { title: 'checkpoints' },
    });
    // Each append is at least one commit of its own (one request at a time): enough for a checkpoint.
    for (let turn = 0; turn < CHECKPOINT_EVERY_COMMITS; turn++) {
      const appended = await callJson(server.url, 'POST', `/v1/conversations/${created.body.id}/turns`, {
        token,
        body: { role: 'user', content: `Blood pressure reading ${turn}: 128 over 82.`, expectedTurn: turn },
      });
      expect(appended.status).toBe(201);
    }
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
