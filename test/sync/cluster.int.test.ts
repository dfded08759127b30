import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  callJson,
  PROCESS_ADMIN_TOKEN,
  type ServerProcess,
  stopAllServerProcesses,
} from '../helpers/server-process.ts';
import { postgresUrl, redisUrl, uniqueName, uniqueTenantName } from '../helpers/services.ts';
import { type ClusterSettings, clusterSettings, dropCluster, startCluster } from '../scale/cluster-support.ts';
import { SyncClient } from './sync-client.ts';

const databaseUrl = postgresUrl();
const sharedRedis = redisUrl();

// Issue 7: "Two clients on two different nodes (separate processes, Redis bus)."
describe.skipIf(!databaseUrl || !sharedRedis)(
  'sync on two nodes: separate processes, one PostgreSQL, Redis bus',
  () => {
    let settings: ClusterSettings;
    let nodes: ServerProcess[] = [];
    const clients: SyncClient[] = [];
    let token: string;

    afterEach((context) => {
      for (const client of clients.splice(0)) client.socket.terminate();
      if (context.task.result?.state !== 'fail') return;
      for (const node of nodes) console.error(`--- node ${node.pid} (tail) ---\n${node.output().slice(-4000)}`);
    });

    beforeAll(async () => {
      // Every model delta its own event, 20 ms apart: a reply lasts long enough to drop in the middle.
      settings = clusterSettings(databaseUrl!, uniqueName('sync'), sharedRedis, {
        CONTINUUM_LOCAL_WORD_DELAY_MS: '20',
        CONTINUUM_SSE_FLUSH_MS: '0',
      });
      nodes = await startCluster(settings, 2);
      const tenant = await callJson<{ apiKey: string }>(nodes[0]!.url, 'POST', '/v1/admin/tenants', {
        token: PROCESS_ADMIN_TOKEN,
        body: { name: uniqueTenantName('sync') },
      });
      const issued = await callJson<{ access_token: string }>(nodes[0]!.url, 'POST', '/v1/auth/token', {
        body: { grant_type: 'api_key', api_key: tenant.body.apiKey, subject: 'patient-1', scope: 'conversations' },
      });
      token = issued.body.access_token;
    });

    afterAll(async () => {
      await stopAllServerProcesses();
      if (settings) await dropCluster(settings);
    });

    const conversation = async () =>
      (await callJson<{ id: string }>(nodes[0]!.url, 'POST', '/v1/conversations', { token, body: {} })).body.id;
    const follow = async (node: ServerProcess, id: string, after: string | null = null) => {
      const client = await SyncClient.follow(node.url, id, token, { after });
      clients.push(client);
      return client;
    };

    it('a turn appended by a client on one node arrives at a client on the other', async () => {
      const [a, b] = nodes as [ServerProcess, ServerProcess];
      const id = await conversation();
      const onA = await follow(a, id);
      const onB = await follow(b, id);
      onA.send({ type: 'append', role: 'user', content: 'My ankle is still swollen.', expectedTurn: 0 });
      const arrived = await onB.next((frame) => frame.event === 'turn');
      expect(arrived.data).toMatchObject({ number: 1, role: 'user', content: 'My ankle is still swollen.' });
      onB.send({ type: 'append', role: 'clinician', content: 'Since when?', expectedTurn: 1 });
      expect((await onA.next((frame) => (frame.data as { number?: number })?.number === 2)).data).toMatchObject({
        role: 'clinician',
        content: 'Since when?',
      });
      expect(onB.storedEvents()).toEqual(onA.storedEvents());
    });

    it('appends racing from both nodes resolve to one order that both clients see identically', async () => {
      const [a, b] = nodes as [ServerProcess, ServerProcess];
      const id = await conversation();
      const onA = await follow(a, id);
      const onB = await follow(b, id);
      const target = 80;
      // Each client appends as fast as it is answered, always after the turn it last heard of: back-to-back
      // turns are committed by different nodes, and every conflict names the turn that won.
      const writer = async (client: SyncClient, name: string) => {
        let expectedTurn = 0;
        let won = 0;
        let lost = 0;
        for (let n = 0; expectedTurn < target; n++) {
          const ref = `${name}${n}`;
          client.send({ type: 'append', role: 'user', content: `${name} ${n}`, expectedTurn, ref });
          const answer = await client.next((frame) => frame['ref'] === ref);
          if (answer.type === 'ack') {
            won++;
            expectedTurn = answer['currentTurn'] as number;
          } else {
            expect(answer).toMatchObject({ code: 'turn_conflict' });
            lost++;
            expectedTurn = answer['currentTurn'] as number;
          }
        }
        return { won, lost };
      };
      const [fromA, fromB] = await Promise.all([writer(onA, 'A'), writer(onB, 'B')]);
      const total = fromA.won + fromB.won;
      expect(total).toBeGreaterThanOrEqual(target);
      expect(fromA.won, 'both nodes won turns').toBeGreaterThan(0);
      expect(fromB.won, 'both nodes won turns').toBeGreaterThan(0);
      const complete = (client: SyncClient) =>
        client.next((frame) => (frame.data as { number?: number })?.number === total, { timeoutMs: 30_000 });
      await Promise.all([complete(onA), complete(onB)]);
      expect(onA.turnNumbers()).toEqual(Array.from({ length: total }, (_, n) => n + 1));
      expect(onB.storedEvents()).toEqual(onA.storedEvents());
      const stored = await callJson<{ items: Array<{ content: string }> }>(
        b.url,
        'GET',
        `/v1/conversations/${id}/turns?limit=500`,
        { token },
      );
      expect(onA.storedEvents().map((event) => (event.data as { content: string }).content)).toEqual(
        stored.body.items.map((turn) => turn.content),
      );
    });

    it('a client that drops mid-reply and resubscribes on the other node ends with the same sequence as one that never dropped', async () => {
      const [a, b] = nodes as [ServerProcess, ServerProcess];
      const id = await conversation();
      const steady = await follow(b, id);
      const dropping = await follow(a, id);
      dropping.send({
        type: 'append',
        role: 'user',
        content: 'I take metformin 500 mg twice a day and lisinopril 10 mg in the morning. Is that right?',
        expectedTurn: 0,
        respond: true,
      });
      await dropping.next(() => dropping.storedEvents().filter((event) => event.event === 'delta').length >= 5);
      dropping.socket.terminate();
      const resumed = await follow(b, id, dropping.lastEventId());
      const done = (client: SyncClient) => client.next((frame) => frame.event === 'done', { timeoutMs: 30_000 });
      await Promise.all([done(steady), done(resumed)]);
      const whole = steady.storedEvents();
      expect(whole.filter((event) => event.event === 'delta').length).toBeGreaterThan(5);
      expect(whole.at(-1)?.event).toBe('done');
      expect([...dropping.storedEvents(), ...resumed.storedEvents()]).toEqual(whole);
    });
  },
);
