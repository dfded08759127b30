import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateService, privateRedisUnavailable, startPrivateRedis } from '../helpers/private-services.ts';
import { uniqueName } from '../helpers/services.ts';
import { ADMIN_TOKEN } from '../helpers/test-app.ts';
import { call, type Node, twoNodes } from './in-process-nodes.ts';
import { SyncClient } from './sync-client.ts';

const unavailable = privateRedisUnavailable();

describe.skipIf(unavailable !== undefined)(
  `sync while Redis stops and returns${unavailable ? ` (${unavailable})` : ''}`,
  () => {
    let redis: PrivateService;
    let nodes: [Node, Node];
    let remove: () => void;
    const clients: SyncClient[] = [];

    beforeAll(async () => {
      redis = await startPrivateRedis();
      ({ nodes, remove } = await twoNodes({ redisUrl: redis.url, redisPrefix: `${uniqueName('syncout')}:` }));
    });
    afterAll(async () => {
      for (const client of clients) client.socket.terminate();
      for (const node of nodes ?? []) await node.close();
      remove?.();
      await redis?.destroy();
    });

    it('a follower on the other node catches up on what was appended during the outage once Redis is back', async () => {
      const [a, b] = nodes;
      const tenant = await call(a.base, 'POST', '/v1/admin/tenants', ADMIN_TOKEN, {
        name: uniqueName('out').replaceAll('_', '-'),
      });
      const grant = { grant_type: 'api_key', api_key: tenant.body['apiKey'], subject: 'patient-1' };
      const token = (await call(a.base, 'POST', '/v1/auth/token', undefined, grant)).body['access_token'] as string;
      const id = (await call(a.base, 'POST', '/v1/conversations', token, {})).body['id'] as string;
      const onB = await SyncClient.follow(b.base, id, token);
      clients.push(onB);
      const append = (content: string, expectedTurn: number) =>
        call(a.base, 'POST', `/v1/conversations/${id}/turns`, token, { role: 'user', content, expectedTurn });

      expect((await append('before the outage', 0)).status).toBe(201);
      await onB.next((frame) => (frame.data as { number?: number })?.number === 1);

      await redis.stop();
      // The store still takes the append; only the notice to node B is lost.
      expect((await append('during the outage', 1)).status).toBe(201);
      await redis.start();

      const caughtUp = await onB.next((frame) => (frame.data as { number?: number })?.number === 2, {
        timeoutMs: 30_000,
      });
      expect(caughtUp.data).toMatchObject({ content: 'during the outage' });
      expect((await append('after the outage', 2)).status).toBe(201);
      await onB.next((frame) => (frame.data as { number?: number })?.number === 3, { timeoutMs: 15_000 });
      expect(onB.turnNumbers()).toEqual([1, 2, 3]);
    });
  },
);
