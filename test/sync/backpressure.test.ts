import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { asConversationId, asTenantId } from '../../src/core/types.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';
import { SyncClient } from './sync-client.ts';

const SEND_BUFFER = 65_536;

/** The TCP socket under a `ws` client: pausing it makes the client stop reading, as a stalled device would. */
const tcpOf = (client: SyncClient) => (client.socket as unknown as { _socket: Socket })._socket;

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('sync backpressure and dead peers', () => {
  let t: TestApp;
  const clients: SyncClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.terminate();
    await t?.close();
  });

  async function setUp(config: Record<string, unknown>) {
    t = await buildTestApp({ config });
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { tenantId, apiKey } = await t.createTenant();
    const token = (await t.token(apiKey, 'patient-1')).access_token;
    const id = (await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).json().id as string;
    const follow = async (after?: string | null) => {
      const client = await SyncClient.follow(base, id, token, { after: after ?? null });
      clients.push(client);
      return client;
    };
    return { base, tenantId, token, id, follow };
  }

  it('closes a consumer that stops reading with 4008, keeps its buffer bounded, and leaves the others whole', async () => {
    const { tenantId, id, follow } = await setUp({ syncSendBufferBytes: SEND_BUFFER });
    const slow = await follow();
    const fast = await follow();
    tcpOf(slow).pause();
    const closedSlowly = async () =>
      /continuum_websocket_closes_total\{code="4008"\} 1/.test(
        (await t.request({ method: 'GET', url: '/metrics' })).body,
      );

    // A long reply's deltas, as the reply service writes them into the event log (8 KiB each).
    const text = 'Take one tablet with breakfast and one with dinner. '.repeat(160);
    let sent = 0;
    const append = () =>
      t.services.events.append(asTenantId(tenantId), asConversationId(id), {
        turn: 1,
        event: 'delta',
        data: JSON.stringify({ text: `${sent++} ${text}` }),
      });
    while (!(await closedSlowly())) {
      if (sent > 5_000) throw new Error('the slow consumer was never closed');
      for (let n = 0; n < 20; n++) await append();
    }
    const serverSide = [...t.app.websocketServer.clients] as WebSocket[];
    const closing = serverSide.find((socket) => socket.readyState === socket.CLOSING);
    expect(closing, 'the slow connection is closing').toBeDefined();
    const held = closing!.bufferedAmount;
    // Bounded: the limit plus at most one frame (and the close frame) beyond it.
    expect(held).toBeLessThanOrEqual(SEND_BUFFER + 2 * (text.length + 200));
    for (let n = 0; n < 50; n++) await append();
    expect(closing!.bufferedAmount, 'nothing more is queued for a closed consumer').toBe(held);

    // The other client got every event, in order.
    await fast.next((frame) => (frame.data as { text?: string })?.text?.startsWith(`${sent - 1} `) === true);
    expect(fast.storedEvents()).toHaveLength(sent);

    // The slow client reads what was queued, then the close: 4008. It resumes after its last id with nothing lost.
    tcpOf(slow).resume();
    expect((await slow.closed).code).toBe(4008);
    const got = slow.storedEvents();
    expect(got).toEqual(fast.storedEvents().slice(0, got.length));
    const resumed = await follow(slow.lastEventId());
    await resumed.next((frame) => (frame.data as { text?: string })?.text?.startsWith(`${sent - 1} `) === true);
    expect([...got, ...resumed.storedEvents()]).toEqual(fast.storedEvents());
  });

  it('drops a peer that stops answering pings', async () => {
    const { follow } = await setUp({ syncPingInterval: 1 });
    const dead = await follow();
    const alive = await follow();
    expect(t.services.sync.size).toBe(2);
    tcpOf(dead).pause(); // reads nothing, so it answers no ping
    await until(() => t.services.sync.size === 1, 'the dead peer to be dropped', 10_000);
    tcpOf(dead).resume();
    expect((await dead.closed).code).toBe(1006);
    // The live one answered every ping and is still there.
    expect(alive.socket.readyState).toBe(alive.socket.OPEN);
  });
});
