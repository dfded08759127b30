import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import { asConversationId, asTenantId } from '../../src/core/types.ts';
import { EventLog } from '../../src/streaming/replay-buffer.ts';
import type { StoredEvent } from '../../src/streaming/replay-store.ts';
import { formatComment, formatEvent, parseLastEventId, SSE_HEADERS } from '../../src/streaming/sse.ts';
import { MemoryReplayStore, settle } from './helpers.ts';

const tenant = asTenantId('tnt_sse');
const conversation = asConversationId('cnv_sse');

/**
 * A stand-in for the events route on one node: resumes from Last-Event-ID
 * (header or query), writes a comment first, and — when `dropAfter` is set —
 * cuts the connection after that many events, as a flaky network would.
 */
function serveEvents(log: EventLog, dropAfter?: number) {
  const resumedFrom: Array<string | null> = [];
  const server = createServer(async (request, response) => {
    const query = new URL(request.url ?? '/', 'http://localhost').searchParams.get('lastEventId') ?? undefined;
    const afterId = parseLastEventId(request.headers['last-event-id'] ?? query);
    resumedFrom.push(afterId);
    const controller = new AbortController();
    response.on('close', () => controller.abort());
    response.writeHead(200, SSE_HEADERS);
    response.write(formatComment('queue position 1'));
    let sent = 0;
    for await (const event of log.subscribe(tenant, conversation, afterId, { signal: controller.signal })) {
      const frame = formatEvent(sent === 0 ? { ...event, retry: 5 } : event);
      sent += 1;
      if (sent === dropAfter) {
        // Cut the connection once this event is on the wire, before the reply is over.
        response.write(frame, () => response.destroy());
        break;
      }
      response.write(frame);
    }
  });
  return { server, resumedFrom };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('SSE resume with a real EventSource client', () => {
  const servers: Server[] = [];
  let source: EventSource | undefined;
  afterEach(async () => {
    source?.close();
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('drops mid-reply, reconnects to another node with Last-Event-ID, and gets every remaining event once, in order', async () => {
    const store = new MemoryReplayStore();
    const nodeA = new EventLog({ store });
    const nodeB = new EventLog({ store });
    const first = serveEvents(nodeA, 7);
    const second = serveEvents(nodeB);
    servers.push(first.server, second.server);
    const [portA, portB] = [await listen(first.server), await listen(second.server)];

    const sent: Array<{ id: string; event: string; data: string }> = [];
    const append = async (turn: number, event: string, data: string) => {
      sent.push(await nodeA.append(tenant, conversation, { turn, event, data }));
      nodeB.wake(tenant, conversation); // what the EventBus does across nodes
    };
    await append(8, 'turn', JSON.stringify({ number: 8, role: 'user', content: 'Which dose?' }));
    await append(9, 'note', 'line one\nline two\r\nline three');

    const received: Array<{ id: string; event: string; data: string }> = [];
    let connections = 0;
    const done = new Promise<void>((resolve) => {
      source = new EventSource(`http://127.0.0.1:${portA}/v1/conversations/${conversation}/events`, {
        // The first connection reaches node A; every reconnect lands on node B.
        fetch: (url, init) => {
          connections += 1;
          return fetch(connections === 1 ? url : String(url).replace(`:${portA}/`, `:${portB}/`), init);
        },
      });
      for (const name of ['turn', 'note', 'delta', 'done']) {
        source.addEventListener(name, (event) => {
          const message = event as MessageEvent<string>;
          received.push({ id: message.lastEventId, event: name, data: message.data });
          if (name === 'done') resolve();
        });
      }
    });

    while (first.resumedFrom.length === 0) await settle(1);
    for (let n = 0; n < 20; n += 1) {
      await append(9, 'delta', JSON.stringify({ text: `word${n} 🩺 ` }));
      await settle(1);
    }
    await append(9, 'done', JSON.stringify({ number: 9, role: 'assistant' }));
    await done;

    expect(connections).toBe(2);
    expect(first.resumedFrom).toEqual([null]);
    expect(second.resumedFrom).toEqual([sent[6]!.id]);
    expect(received).toEqual(
      sent.map((e) => (e.event === 'note' ? { ...e, data: 'line one\nline two\nline three' } : e)),
    );
  });

  it('resumes from the lastEventId query parameter when the header is absent', async () => {
    const store = new MemoryReplayStore();
    const log = new EventLog({ store });
    const events: StoredEvent[] = [];
    for (let n = 0; n < 4; n += 1)
      events.push(await log.append(tenant, conversation, { turn: 1, event: 'delta', data: `${n}` }));
    await log.append(tenant, conversation, { turn: 1, event: 'done', data: 'end' });
    const { server, resumedFrom } = serveEvents(log);
    servers.push(server);
    const port = await listen(server);
    const received: string[] = [];
    await new Promise<void>((resolve) => {
      source = new EventSource(`http://127.0.0.1:${port}/events?lastEventId=${events[1]!.id}`);
      source.addEventListener('delta', (event) => received.push((event as MessageEvent<string>).data));
      source.addEventListener('done', () => resolve());
    });
    expect(resumedFrom).toEqual([events[1]!.id]);
    expect(received).toEqual(['2', '3']);
  });
});
