import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allTurns, type Conversation, firstBrokenTurn, type Problem, type Turn } from '../e2e/support.ts';
import {
  type PrivateService,
  privatePostgresUnavailable,
  privateRedisUnavailable,
  startPrivatePostgres,
  startPrivateRedis,
} from '../helpers/private-services.ts';
import { callJson, type ServerProcess, stopAllServerProcesses, tenantWithToken } from '../helpers/server-process.ts';
import { postgresUrl, uniqueName, uniqueTenantName } from '../helpers/services.ts';
import { type ClusterSettings, clusterSettings, dropCluster, startCluster } from './cluster-support.ts';

const databaseUrl = postgresUrl();

interface Readiness {
  status: string;
  failing: string[];
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const append = (node: ServerProcess, token: string, id: string, content: string, expectedTurn: number, key: string) =>
  callJson<{ turn: Turn } & Problem>(node.url, 'POST', `/v1/conversations/${id}/turns`, {
    token,
    body: { role: 'user', content, expectedTurn },
    headers: { 'idempotency-key': key },
  });

// Issue 6: "Stopping Redis mid-run: requests keep succeeding, /readyz reports the bus failing;
// when Redis returns, /readyz recovers without a restart."
describe.skipIf(!databaseUrl || privateRedisUnavailable() !== undefined)('Redis stops and returns under load', () => {
  let redis: PrivateService;
  let settings: ClusterSettings;
  let nodes: ServerProcess[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    settings = clusterSettings(databaseUrl!, uniqueName('redisdown'), redis.url);
    nodes = await startCluster(settings, 2);
  });

  afterEach((context) => {
    if (context.task.result?.state !== 'fail') return;
    for (const node of nodes) console.error(`--- node ${node.pid} (tail) ---\n${node.output().slice(-4000)}`);
  });

  afterAll(async () => {
    await stopAllServerProcesses();
    await redis?.destroy();
    if (settings) await dropCluster(settings);
  });

  it('keeps serving on node-local limits, reports the bus degraded, and recovers when Redis is back', async () => {
    const [a, b] = nodes as [ServerProcess, ServerProcess];
    const { token } = await tenantWithToken(a.url, uniqueTenantName('redis'), 'patient-redis');
    const created = await callJson<Conversation>(a.url, 'POST', '/v1/conversations', { token, body: {} });
    const id = created.body.id;
    const ready = await callJson<Readiness>(a.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');

    await redis.stop();
    let turn = 0;
    for (let i = 0; i < 20; i++) {
      const node = i % 2 === 0 ? a : b;
      const started = Date.now();
      const res = await append(node, token, id, `turn ${turn + 1} while Redis is down`, turn, randomUUID());
      expect(res.status).toBe(201);
      expect(Date.now() - started).toBeLessThan(2_000);
      turn += 1;
      const read = await callJson(node.url, 'GET', `/v1/conversations/${id}/turns?after=0&limit=5`, { token });
      expect(read.status).toBe(200);
    }
    for (const node of nodes) {
      const degraded = await callJson<Readiness>(node.url, 'GET', '/readyz');
      expect(degraded.status).toBe(200);
      expect(degraded.body.status).toBe('degraded');
      expect(degraded.body.failing).toEqual(['bus']);
    }

    await redis.start();
    for (const node of nodes) {
      await waitFor('/readyz ok after Redis returned', async () => {
        const res = await callJson<Readiness>(node.url, 'GET', '/readyz');
        return res.status === 200 && res.body.status === 'ok' ? res : undefined;
      });
    }
    const after = await append(b, token, id, 'after Redis returned', turn, randomUUID());
    expect(after.status).toBe(201);
    expect(await allTurns(a.url, token, id)).toHaveLength(turn + 1);
  });
});

// Issue 6: "Restarting PostgreSQL mid-run: requests fail fast with 503 code=store_unavailable
// (no hang, no half-write), and succeed again after it is back, with no acknowledged turn lost."
describe.skipIf(privatePostgresUnavailable() !== undefined)('PostgreSQL restarts under load', () => {
  let postgres: PrivateService;
  let settings: ClusterSettings;
  let nodes: ServerProcess[] = [];

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    settings = clusterSettings(postgres.url, uniqueName('pgrestart'), undefined);
    nodes = await startCluster(settings, 2);
  });

  afterEach((context) => {
    if (context.task.result?.state !== 'fail') return;
    for (const node of nodes) console.error(`--- node ${node.pid} (tail) ---\n${node.output().slice(-4000)}`);
  });

  afterAll(async () => {
    await stopAllServerProcesses();
    if (settings) await dropCluster(settings).catch(() => undefined);
    await postgres?.destroy();
  });

  it('answers 503 store_unavailable fast while it is down, then carries on with every acknowledged turn kept', async () => {
    const [a, b] = nodes as [ServerProcess, ServerProcess];
    const { token } = await tenantWithToken(a.url, uniqueTenantName('pg'), 'patient-pg');
    const created = await callJson<Conversation>(a.url, 'POST', '/v1/conversations', { token, body: {} });
    const id = created.body.id;

    // Writers append one logical turn at a time, retrying each with its idempotency key until acknowledged,
    // as a client should; every acknowledged turn must survive the restart exactly once.
    const acknowledged: Turn[] = [];
    const failures: { status: number; code: string; ms: number }[] = [];
    let stop = false;
    const writer = (async () => {
      let logical = 0;
      while (!stop || logical < 5) {
        const key = randomUUID();
        const content = `logical append ${logical}`;
        for (;;) {
          const node = acknowledged.length % 2 === 0 ? a : b;
          const started = Date.now();
          const res = await append(node, token, id, content, acknowledged.length, key).catch(() => undefined);
          if (res?.status === 201) {
            acknowledged.push(res.body.turn);
            break;
          }
          failures.push({ status: res?.status ?? 0, code: res?.body?.code ?? 'network', ms: Date.now() - started });
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        logical += 1;
      }
    })();

    await waitFor('some appends before the restart', async () => (acknowledged.length >= 10 ? true : undefined));
    await postgres.stop();
    await waitFor('a refused append while PostgreSQL is down', async () => (failures.length >= 3 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const beforeRestart = acknowledged.length;
    await postgres.start();
    await waitFor('appends again after the restart', async () =>
      acknowledged.length >= beforeRestart + 10 ? true : undefined,
    );
    stop = true;
    await writer;

    expect(failures.length).toBeGreaterThanOrEqual(3);
    for (const failure of failures) {
      expect(failure).toMatchObject({ status: 503, code: 'store_unavailable' });
      expect(failure.ms).toBeLessThan(5_000);
    }
    const stored = await allTurns(b.url, token, id);
    expect(firstBrokenTurn(id, stored)).toBeNull();
    expect(stored.map((turn) => turn.hash)).toEqual(acknowledged.map((turn) => turn.hash));
    expect(stored.map((turn) => turn.content)).toEqual(acknowledged.map((turn) => turn.content));
  });
});
