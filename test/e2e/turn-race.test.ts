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
import { allTurns, type Conversation, firstBrokenTurn, type Problem, type Turn } from './support.ts';

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

interface Conflict {
  writer: number;
  expectedTurn: number;
  problem: Problem;
}

// ADR-003, issue 2: "100 concurrent appends racing on one conversation (real
// concurrency, two app instances on the same database file)". The instances
// are two OS processes, each with its own SQLite connection, on one data dir.
describe('turn race: two server processes on one SQLite file', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-e2e-race-'));
  let a: ServerProcess;
  let b: ServerProcess;
  let token: string;
  let id: string;
  const serverOf = (i: number) => (i % 2 === 0 ? a : b);

  const append = (server: ServerProcess, content: string, expectedTurn: number) =>
    callJson<{ turn: Turn } & Problem>(server.url, 'POST', `/v1/conversations/${id}/turns`, {
      token,
      body: { role: 'user', content, expectedTurn },
    });

  beforeAll(async () => {
    // The first process creates the data dir's key file, signing key and schema; only then the second starts.
    a = await startServerProcess({ dataDir });
    b = await startServerProcess({ dataDir });
    ({ token } = await tenantWithToken(a.url, `race-${process.pid}`, 'patient-race'));
    const created = await callJson<Conversation>(a.url, 'POST', '/v1/conversations', {
      token,
      body: { title: 'race' },
    });
    expect(created.status).toBe(201);
    id = created.body.id;
    // Both processes can see it (B verifies A's token with the shared signing key).
    for (const server of [a, b]) {
      const got = await callJson<Conversation>(server.url, 'GET', `/v1/conversations/${id}`, { token });
      expect(got.status).toBe(200);
      expect(got.body.turn).toBe(0);
    }
  });

  afterEach((context) => {
    if (context.task.result?.state === 'fail') {
      for (const [name, server] of [['A', a] as const, ['B', b] as const]) {
        console.error(`--- server ${name} output (tail) ---\n${server?.output().slice(-6000)}`);
      }
    }
  });

  afterAll(async () => {
    // A clean SIGTERM stop where possible; anything left (e.g. after a failed start) is killed.
    await Promise.all([a, b].map((server) => server?.stop()));
    await stopAllServerProcesses();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let winner: Turn;

  it('100 concurrent appends at expectedTurn 0, 50 per process: one 201, 99 × 409 with currentTurn 1 and missed = [the winner]', async () => {
    const results = await Promise.all(
      range(0, 99).map(async (i) => ({ i, res: await append(serverOf(i), `racer-${i}`, 0) })),
    );

    const statuses = results.map(({ res }) => res.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(99);

    const won = results.find(({ res }) => res.status === 201)!;
    winner = won.res.body.turn;
    expect(winner).toMatchObject({ number: 1, role: 'user', content: `racer-${won.i}` });

    const losers = results.filter(({ res }) => res.status === 409);
    for (const { res } of losers) {
      expect(res.body).toMatchObject({ code: 'turn_conflict', currentTurn: 1 });
      expect(res.body.missed).toEqual([winner]);
      expect(res.body.missedTruncated).toBeUndefined();
    }
    // The process that did not serve the winner answered all 50 of its requests with 409.
    expect(losers.filter(({ i }) => i % 2 === 0).length).toBeGreaterThanOrEqual(49);
    expect(losers.filter(({ i }) => i % 2 === 1).length).toBeGreaterThanOrEqual(49);

    for (const server of [a, b]) {
      const turns = await allTurns(server.url, token, id);
      expect(turns).toEqual([winner]);
      expect(firstBrokenTurn(id, turns)).toBeNull();
    }
  });

  it('100 writers (50 per process) retrying on 409 with expectedTurn = currentTurn: turns 1..101, no gap, no duplicate, every missed exact', async () => {
    const start = await callJson<Conversation>(a.url, 'GET', `/v1/conversations/${id}`, { token });
    expect(start.status).toBe(200);
    expect(start.body.turn).toBe(1);

    const writers = 100;
    // A writer loses only to a turn another writer won since its last try, so 99 losses is the most it can see.
    const maxAttempts = writers + 50;
    const wins = new Map<number, Turn>();
    const conflicts: Conflict[] = [];
    const unexpected: { writer: number; status: number; body: unknown }[] = [];

    await Promise.all(
      range(0, writers - 1).map(async (writer) => {
        let expectedTurn = start.body.turn;
        for (let attempt = 0; attempt < maxAttempts; attempt++) {
          const res = await append(serverOf(writer), `writer-${writer}`, expectedTurn);
          if (res.status === 201) {
            wins.set(writer, res.body.turn);
            return;
          }
          if (res.status !== 409 || res.body.code !== 'turn_conflict' || typeof res.body.currentTurn !== 'number') {
            unexpected.push({ writer, status: res.status, body: res.body });
            return;
          }
          conflicts.push({ writer, expectedTurn, problem: res.body });
          expectedTurn = res.body.currentTurn;
        }
        unexpected.push({ writer, status: 0, body: `no win in ${maxAttempts} attempts` });
      }),
    );

    expect(unexpected).toEqual([]);
    expect(wins.size).toBe(writers);
    // Every writer's first try named the same turn, and only one can follow it.
    expect(conflicts.length).toBeGreaterThanOrEqual(writers - 1);

    const fromA = await allTurns(a.url, token, id);
    const fromB = await allTurns(b.url, token, id);
    expect(fromB).toEqual(fromA);
    const final = fromA;
    expect(final.map((t) => t.number)).toEqual(range(1, writers + 1));
    expect(firstBrokenTurn(id, final)).toBeNull();
    expect(final[0]).toEqual(winner);
    expect(final.slice(1).map((t) => t.content)).toHaveLength(writers);
    expect(new Set(final.slice(1).map((t) => t.content))).toEqual(
      new Set(range(0, writers - 1).map((w) => `writer-${w}`)),
    );

    // What each winner was told is what is stored.
    for (const [writer, turn] of wins) {
      expect(turn.content).toBe(`writer-${writer}`);
      expect(final[turn.number - 1]).toEqual(turn);
    }

    // Every 409 named exactly the turns between the writer's expectedTurn and the currentTurn it reported.
    for (const { expectedTurn, problem } of conflicts) {
      const currentTurn = problem.currentTurn!;
      expect(currentTurn).toBeGreaterThan(expectedTurn);
      expect(problem.missedTruncated).toBeUndefined();
      expect(problem.missed!.map((t) => t.number)).toEqual(range(expectedTurn + 1, currentTurn));
      expect(problem.missed).toEqual(final.slice(expectedTurn, currentTurn));
    }

    for (const server of [a, b]) {
      const got = await callJson<Conversation>(server.url, 'GET', `/v1/conversations/${id}`, { token });
      expect(got.status).toBe(200);
      expect(got.body.turn).toBe(writers + 1);
      expect(got.headers.get('etag')).toBe(`"${writers + 1}"`);
    }
  });
});
