import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allTurns, type Conversation, firstBrokenTurn, type Problem, type Turn } from '../e2e/support.ts';
import { callJson, type ServerProcess, stopAllServerProcesses, tenantWithToken } from '../helpers/server-process.ts';
import { postgresUrl, redisUrl, uniqueName, uniqueTenantName } from '../helpers/services.ts';
import { type ClusterSettings, clusterSettings, dropCluster, startCluster } from './cluster-support.ts';

const databaseUrl = postgresUrl();
const sharedRedis = redisUrl();

function dumpOnFailure(nodes: () => ServerProcess[]) {
  afterEach((context) => {
    if (context.task.result?.state !== 'fail') return;
    for (const node of nodes()) console.error(`--- node ${node.pid} (tail) ---\n${node.output().slice(-4000)}`);
  });
}

// Issue 6: "Three nodes (separate processes) on one PostgreSQL and one Redis."
describe.skipIf(!databaseUrl || !sharedRedis)('three nodes on one PostgreSQL and one Redis', () => {
  let settings: ClusterSettings;
  let nodes: ServerProcess[] = [];
  dumpOnFailure(() => nodes);

  beforeAll(async () => {
    settings = clusterSettings(databaseUrl!, uniqueName('cluster'), sharedRedis);
    // All three migrate the same empty schema at once on start.
    nodes = await startCluster(settings, 3);
  });

  afterAll(async () => {
    await stopAllServerProcesses();
    if (settings) await dropCluster(settings);
  });

  it('a token issued by one node is accepted by the others, and a refresh on one is honoured by the rest', async () => {
    const [a, b, c] = nodes as [ServerProcess, ServerProcess, ServerProcess];
    const tenant = await callJson<{ tenantId: string; apiKey: string }>(a.url, 'POST', '/v1/admin/tenants', {
      token: 'e2e-operator-token-0123456789abcdef',
      body: { name: uniqueTenantName('tokens') },
    });
    expect(tenant.status).toBe(201);
    const issued = await callJson<{ access_token: string; refresh_token: string }>(a.url, 'POST', '/v1/auth/token', {
      body: { grant_type: 'api_key', api_key: tenant.body.apiKey, subject: 'patient-1', scope: 'conversations' },
    });
    expect(issued.status).toBe(200);
    const created = await callJson<Conversation>(b.url, 'POST', '/v1/conversations', {
      token: issued.body.access_token,
      body: {},
    });
    expect(created.status).toBe(201);
    const read = await callJson<Conversation>(c.url, 'GET', `/v1/conversations/${created.body.id}`, {
      token: issued.body.access_token,
    });
    expect(read.status).toBe(200);

    const refreshed = await callJson<{ access_token: string }>(b.url, 'POST', '/v1/auth/token', {
      body: { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    const afterRefresh = await callJson(c.url, 'GET', `/v1/conversations/${created.body.id}`, {
      token: refreshed.body.access_token,
    });
    expect(afterRefresh.status).toBe(200);
    // The spent refresh token presented to a third node is reuse: the family is revoked everywhere.
    const reused = await callJson<Problem>(c.url, 'POST', '/v1/auth/token', {
      body: { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token },
    });
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('refresh_reused');
  });

  it('a follower of GET …/events on one node sees, live, the turns appended on another', async () => {
    const [a, , c] = nodes as [ServerProcess, ServerProcess, ServerProcess];
    const { token } = await tenantWithToken(a.url, uniqueTenantName('follow'), 'patient-follow');
    const created = await callJson<Conversation>(a.url, 'POST', '/v1/conversations', { token, body: {} });
    const id = created.body.id;
    const leave = new AbortController();
    const res = await fetch(`${c.url}/v1/conversations/${id}/events`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: leave.signal,
    });
    expect(res.status).toBe(200);
    const seen: number[] = [];
    const reading = (async () => {
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((line) => line.startsWith('data: '));
          if (block.includes('event: turn') && data) seen.push((JSON.parse(data.slice(6)) as Turn).number);
          if (seen.length === 3) return;
        }
      }
    })();
    for (let turn = 0; turn < 3; turn++) {
      const appended = await callJson(a.url, 'POST', `/v1/conversations/${id}/turns`, {
        token,
        body: { role: 'user', content: `turn ${turn + 1} written on node A`, expectedTurn: turn },
      });
      expect(appended.status).toBe(201);
    }
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000));
    const outcome = await Promise.race([reading.then(() => 'done' as const), timeout]);
    leave.abort();
    expect(outcome).toBe('done');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('300 racing appends spread over the nodes: exactly one winner per turn number, one chain every node agrees on', async () => {
    const { token } = await tenantWithToken(nodes[0]!.url, uniqueTenantName('race'), 'patient-race');
    const created = await callJson<Conversation>(nodes[0]!.url, 'POST', '/v1/conversations', { token, body: {} });
    const id = created.body.id;
    const rounds = 100;
    const winners: Turn[] = [];
    for (let round = 0; round < rounds; round++) {
      // One writer per node races for the same next turn number.
      const results = await Promise.all(
        nodes.map((node, index) =>
          callJson<{ turn: Turn } & Problem>(node.url, 'POST', `/v1/conversations/${id}/turns`, {
            token,
            body: { role: 'user', content: `round ${round} from node ${index}`, expectedTurn: round },
          }),
        ),
      );
      const won = results.filter((res) => res.status === 201);
      const lost = results.filter((res) => res.status === 409);
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(2);
      for (const res of lost) {
        expect(res.body.code).toBe('turn_conflict');
        expect(res.body.currentTurn).toBe(round + 1);
      }
      winners.push(won[0]!.body.turn);
    }
    expect(winners.map((turn) => turn.number)).toEqual(Array.from({ length: rounds }, (_, i) => i + 1));

    const views = await Promise.all(nodes.map((node) => allTurns(node.url, token, id)));
    for (const view of views) {
      expect(view).toEqual(views[0]);
      expect(firstBrokenTurn(id, view)).toBeNull();
    }
    expect(views[0]!.map((turn) => turn.content)).toEqual(winners.map((turn) => turn.content));
  });
});

// Issue 6: "a tenant's session limit and rate limit hold across the three nodes as if they were one".
describe.skipIf(!databaseUrl || !sharedRedis)('limits shared through Redis across three nodes', () => {
  let settings: ClusterSettings;
  let nodes: ServerProcess[] = [];
  dumpOnFailure(() => nodes);

  beforeAll(async () => {
    settings = clusterSettings(databaseUrl!, uniqueName('limits'), sharedRedis, {
      CONTINUUM_MAX_SESSIONS_PER_TENANT: '4',
      CONTINUUM_RATE_LIMIT_PER_TENANT: '5',
    });
    nodes = await startCluster(settings, 3);
  });

  afterAll(async () => {
    await stopAllServerProcesses();
    if (settings) await dropCluster(settings);
  });

  it('the session limit counts sessions opened on every node', async () => {
    const { token } = await tenantWithToken(nodes[0]!.url, uniqueTenantName('sessions'), 'patient-sessions');
    const opened: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await callJson(nodes[i % 3]!.url, 'POST', '/v1/conversations', { token, body: {} });
      opened.push(res.status);
    }
    expect(opened).toEqual([201, 201, 201, 201]);
    // Node-local pools would each have room for four more.
    for (const node of nodes) {
      const refused = await callJson<Problem>(node.url, 'POST', '/v1/conversations', { token, body: {} });
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('session_limit');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });

  it('the tenant rate limit is one budget across the nodes', async () => {
    const { token } = await tenantWithToken(nodes[0]!.url, uniqueTenantName('rate'), 'patient-rate');
    // 5 requests per second sustained, bursts of 10: 30 requests at once over three nodes.
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => callJson<Problem>(nodes[i % 3]!.url, 'GET', '/v1/conversations', { token })),
    );
    const passed = results.filter((res) => res.status === 200).length;
    const limited = results.filter((res) => res.status === 429);
    // Node-local buckets would let 30 through (10 per node); a shared one lets the burst through, plus
    // whatever refilled while the requests were in flight.
    expect(passed).toBeGreaterThanOrEqual(10);
    expect(passed).toBeLessThan(20);
    expect(limited.length).toBe(30 - passed);
    for (const res of limited) {
      expect(res.body.code).toBe('rate_limited');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });
});
