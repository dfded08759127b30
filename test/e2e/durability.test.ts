import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  callJson,
  type ServerProcess,
  startServerProcess,
  stopAllServerProcesses,
  tenantWithToken,
} from '../helpers/server-process.ts';
import { allTurns, type Conversation, firstBrokenTurn, type Turn } from './support.ts';

// Issue 2: "Data written before a 201 is on disk: a kill -9 right after the
// response loses nothing." The server is a real process; SIGKILL gives it no
// chance to flush, close or checkpoint anything.
describe('durability: kill -9 after a 201 loses nothing', () => {
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  const newDataDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'continuum-e2e-durable-'));
    dirs.push(dir);
    return dir;
  };
  const start = async (dataDir: string) => {
    const server = await startServerProcess({ dataDir });
    servers.push(server);
    return server;
  };
  // Each test's first process, on its own data dir, started side by side to save a start-up.
  const sequentialDir = newDataDir();
  const concurrentDir = newDataDir();
  let sequentialFirst: ServerProcess;
  let concurrentFirst: ServerProcess;

  beforeAll(async () => {
    [sequentialFirst, concurrentFirst] = await Promise.all([start(sequentialDir), start(concurrentDir)]);
  });

  afterEach((context) => {
    if (context.task.result?.state === 'fail') {
      for (const server of servers)
        console.error(`--- server ${server.pid} (tail) ---\n${server.output().slice(-6000)}`);
    }
  });

  afterAll(async () => {
    await stopAllServerProcesses();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const append = (server: ServerProcess, token: string, id: string, content: string, expectedTurn: number) =>
    callJson<{ turn: Turn }>(server.url, 'POST', `/v1/conversations/${id}/turns`, {
      token,
      body: { role: 'user', content, expectedTurn },
    });

  it('50 sequential appends, SIGKILL right after the last 201: a new process has every turn, same hash and content, chain intact', async () => {
    const dataDir = sequentialDir;
    const first = sequentialFirst;
    const { token } = await tenantWithToken(first.url, `durable-${process.pid}`, 'patient-durable');
    const created = await callJson<Conversation>(first.url, 'POST', '/v1/conversations', { token, body: {} });
    expect(created.status).toBe(201);
    const id = created.body.id;

    const acked: Turn[] = [];
    for (let n = 0; n < 50; n++) {
      const res = await append(first, token, id, `Metformin 500 mg — día ${n + 1} ✓`, n);
      expect(res.status).toBe(201);
      acked.push(res.body.turn);
    }
    await first.kill9();
    expect(first.exited).toBe(true);

    const second = await start(dataDir);
    // The old access token still verifies: signing keys are in the store, not in the dead process.
    const got = await callJson<Conversation>(second.url, 'GET', `/v1/conversations/${id}`, { token });
    expect(got.status).toBe(200);
    expect(got.body.turn).toBe(50);
    const stored = await allTurns(second.url, token, id);
    expect(stored).toEqual(acked);
    expect(firstBrokenTurn(id, stored)).toBeNull();

    // And the conversation goes on from there.
    const next = await append(second, token, id, 'after the restart', 50);
    expect(next.status).toBe(201);
    expect(next.body.turn.number).toBe(51);
  });

  it('20 writers on 20 conversations, SIGKILL mid-stream: every turn acknowledged with a 201 before the kill is there after restart', async () => {
    const dataDir = concurrentDir;
    const first = concurrentFirst;
    const { apiKey, token: firstToken } = await tenantWithToken(first.url, `durable-many-${process.pid}`, 'subject-0');
    const subjects = ['subject-0', 'subject-1', 'subject-2', 'subject-3'];
    const tokens: Record<string, string> = { 'subject-0': firstToken };
    for (const subject of subjects.slice(1)) {
      const res = await callJson<{ access_token: string }>(first.url, 'POST', '/v1/auth/token', {
        body: { grant_type: 'api_key', api_key: apiKey, subject, scope: 'conversations' },
      });
      expect(res.status).toBe(200);
      tokens[subject] = res.body.access_token;
    }
    const writers = await Promise.all(
      Array.from({ length: 20 }, async (_, w) => {
        const token = tokens[subjects[w % subjects.length]!]!;
        const res = await callJson<Conversation>(first.url, 'POST', '/v1/conversations', {
          token,
          body: { title: `writer ${w}` },
        });
        expect(res.status).toBe(201);
        return { w, token, id: res.body.id, acked: [] as Turn[] };
      }),
    );

    const killAfter = 150;
    const maxTurnsPerWriter = 100;
    let ackedTotal = 0;
    let killing: Promise<void> | null = null;
    const unexpected: unknown[] = [];

    await Promise.all(
      writers.map(async (writer) => {
        while (writer.acked.length < maxTurnsPerWriter) {
          let res: Awaited<ReturnType<typeof append>>;
          try {
            res = await append(
              first,
              writer.token,
              writer.id,
              `w${writer.w} t${writer.acked.length + 1}`,
              writer.acked.length,
            );
          } catch (error) {
            // After the kill, requests fail to connect or lose their connection: the writer stops.
            if (killing === null) unexpected.push({ writer: writer.w, error: String(error) });
            return;
          }
          if (res.status !== 201) {
            unexpected.push({ writer: writer.w, status: res.status, body: res.body });
            return;
          }
          // A 201 that arrives is acknowledged, even one read just after the kill was sent.
          writer.acked.push(res.body.turn);
          ackedTotal += 1;
          if (ackedTotal === killAfter) killing = first.kill9();
        }
      }),
    );
    expect(unexpected).toEqual([]);
    expect(killing).not.toBeNull();
    await killing;
    expect(ackedTotal).toBeGreaterThanOrEqual(killAfter);

    const second = await start(dataDir);
    for (const writer of writers) {
      const got = await callJson<Conversation>(second.url, 'GET', `/v1/conversations/${writer.id}`, {
        token: writer.token,
      });
      expect(got.status).toBe(200);
      const stored = await allTurns(second.url, writer.token, writer.id);
      expect(firstBrokenTurn(writer.id, stored)).toBeNull();
      expect(got.body.turn).toBe(stored.length);
      expect(stored.slice(0, writer.acked.length)).toEqual(writer.acked);
      // At most the one append in flight at the kill can be stored without its 201 having arrived.
      expect(stored.length - writer.acked.length).toBeGreaterThanOrEqual(0);
      expect(stored.length - writer.acked.length).toBeLessThanOrEqual(1);
    }
  });
});
