import { afterEach, describe, expect, it } from 'vitest';
import { type ContinuumClient, ContinuumError, type ConversationEvent } from '../../src/client/index.ts';
import { FakeClock } from '../../src/core/clock.ts';
import {
  type ClientTestServer,
  type RawEvent,
  readLog,
  startProxy,
  startServer,
  tapFetch,
  undisturbedReply,
} from './support.ts';

const MINUTE = 60_000;
const QUESTION = 'I take metformin 500 mg twice a day and lisinopril 10 mg. What medications do I take?';
/** Every model delta its own SSE event, one word every 20 ms: a reply lasts long enough to be cut. */
const PACED = { config: { localWordDelayMs: 20, sseFlushMs: 0 } };

const plain = (events: ConversationEvent[]): RawEvent[] => events.map(({ id, event, data }) => ({ id, event, data }));

async function tokenOf(client: ContinuumClient): Promise<string> {
  return client.tokens.accessToken();
}

describe('streamed replies that survive dropped connections', () => {
  let s: ClientTestServer | undefined;
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  afterEach(async () => {
    await proxy?.close();
    await s?.close();
    proxy = undefined;
    s = undefined;
  });

  async function setUp(options: Parameters<typeof startServer>[0] = PACED) {
    s = await startServer(options);
    proxy = await startProxy(s.port);
    return { s, proxy };
  }

  it('an undisturbed reply yields turn, deltas and done; result() has the stored turns', async () => {
    const { s } = await setUp();
    const client = s.client();
    const { id } = await client.conversations.create();
    const reply = client.turns.append(id, {
      role: 'user',
      content: QUESTION,
      expectedTurn: 0,
      respond: true,
      stream: true,
    });
    const events: ConversationEvent[] = [];
    for await (const event of reply) events.push(event);
    expect(events[0]).toMatchObject({ event: 'turn', data: { number: 1, role: 'user', content: QUESTION } });
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { number: 2, role: 'assistant' } });
    expect(events.filter((e) => e.event === 'delta').length).toBeGreaterThan(5);
    expect(reply.text).toBe(reply.reply!.content);
    expect(reply.reconnects).toBe(0);
    expect(plain(events)).toEqual(await undisturbedReply(s.url, await tokenOf(client), id, 1));
    const again = client.turns.append(id, {
      role: 'user',
      content: 'Thanks.',
      expectedTurn: 2,
      respond: true,
      stream: true,
    });
    const result = await again.result();
    expect(result).toMatchObject({ turn: { number: 3 }, reply: { number: 4 } });
    expect(result.text).toBe(result.reply.content);
  });

  it('a socket cut mid-reply resumes with Last-Event-ID: exactly the events of an undisturbed client, once each', async () => {
    const { s, proxy } = await setUp();
    const client = s.client({ baseUrl: proxy.url });
    const { id } = await client.conversations.create();
    const reply = client.turns.append(id, {
      role: 'user',
      content: QUESTION,
      expectedTurn: 0,
      respond: true,
      stream: true,
    });
    const events: ConversationEvent[] = [];
    for await (const event of reply) {
      events.push(event);
      if (events.filter((e) => e.event === 'delta').length === 3 && reply.reconnects === 0) proxy.dropAll();
    }
    expect(reply.reconnects).toBe(1);
    expect(client.stats.reconnects).toBe(1);
    const expected = await undisturbedReply(s.url, await tokenOf(client), id, 1);
    expect(plain(events)).toEqual(expected);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(reply.text).toBe(reply.reply!.content);
    expect((await client.turns.list(id)).map((t) => t.number)).toEqual([1, 2]);
  });

  it('resumes after two cuts with a token refresh in between (the token came due during the reply)', async () => {
    const { s, proxy } = await setUp();
    const client = s.client({ baseUrl: proxy.url });
    const { id } = await client.conversations.create();
    const reply = client.turns.append(id, {
      role: 'user',
      content: QUESTION,
      expectedTurn: 0,
      respond: true,
      stream: true,
    });
    const events: ConversationEvent[] = [];
    let deltas = 0;
    for await (const event of reply) {
      events.push(event);
      if (event.event !== 'delta') continue;
      deltas += 1;
      if (deltas === 2 || deltas === 6) {
        s.clock.advance(26 * MINUTE);
        proxy.dropAll();
      }
    }
    expect(reply.reconnects).toBe(2);
    expect(client.stats).toMatchObject({ refreshes: 2, retriesAfter401: 0 });
    expect(plain(events)).toEqual(await undisturbedReply(s.url, await tokenOf(client), id, 1));
  });

  it('resumes when the server refuses the stale token on reconnect (token_expired, device clock behind)', async () => {
    const { s, proxy } = await setUp();
    const tap = tapFetch();
    const client = s.client({ baseUrl: proxy.url, clock: new FakeClock(s.clock.now()), fetch: tap.fetch });
    const { id } = await client.conversations.create();
    const reply = client.turns.append(id, {
      role: 'user',
      content: QUESTION,
      expectedTurn: 0,
      respond: true,
      stream: true,
    });
    const events: ConversationEvent[] = [];
    for await (const event of reply) {
      events.push(event);
      if (events.length === 4 && reply.reconnects === 0) {
        s.clock.advance(45 * MINUTE);
        proxy.dropAll();
      }
    }
    const resumes = tap.exchanges.filter((e) => e.path.endsWith('/events'));
    expect(resumes.map((e) => e.status)).toEqual([401, 200]);
    expect(resumes[1]!.headers['last-event-id']).toBe(events[3]!.id);
    expect(client.stats.retriesAfter401).toBe(1);
    expect(plain(events)).toEqual(await undisturbedReply(s.url, await tokenOf(client), id, 1));
  });

  it('a stream answer lost before its first event: the append is sent again with its key, written once, and the events follow', async () => {
    const { s, proxy } = await setUp();
    const tap = tapFetch();
    const client = s.client({ baseUrl: proxy.url, fetch: tap.fetch });
    const { id } = await client.conversations.create();
    proxy.cutNextResponse('text/event-stream');
    const reply = client.turns.append(id, {
      role: 'user',
      content: QUESTION,
      expectedTurn: 0,
      respond: true,
      stream: true,
    });
    const events: ConversationEvent[] = [];
    for await (const event of reply) events.push(event);
    const posts = tap.exchanges.filter((e) => e.method === 'POST' && e.path.endsWith('/turns'));
    expect(posts).toHaveLength(1); // the first never got an answer, so the tap saw only the second
    expect(posts[0]!.headers['idempotency-key']).toBe(reply.idempotencyKey);
    expect((await client.turns.list(id)).map((t) => `${t.number} ${t.role}`)).toEqual(['1 user', '2 assistant']);
    expect(plain(events)).toEqual(await undisturbedReply(s.url, await tokenOf(client), id, 1));
  });

  it('a connection that goes silent is reopened by the watchdog', async () => {
    const { s, proxy } = await setUp();
    const client = s.client({ baseUrl: proxy.url });
    const { id } = await client.conversations.create();
    const reply = client.turns.append(id, {
      role: 'user',
      content: QUESTION,
      expectedTurn: 0,
      respond: true,
      stream: true,
      idleTimeoutMs: 300,
    });
    const events: ConversationEvent[] = [];
    for await (const event of reply) {
      events.push(event);
      if (events.length === 3 && reply.reconnects === 0) proxy.stallAll();
    }
    // At least one: a reconnect may first land on an idle pooled connection that is stalled too.
    expect(reply.reconnects).toBeGreaterThanOrEqual(1);
    expect(plain(events)).toEqual(await undisturbedReply(s.url, await tokenOf(client), id, 1));
  });

  it('a reply that fails ends with its error event, and result() throws the typed error', async () => {
    const { s } = await setUp({
      config: { localWordDelayMs: 50, sseFlushMs: 0, maxStreamsPerTenant: 1, streamMaxWait: 0 },
    });
    const client = s.client();
    const a = await client.conversations.create();
    const b = await client.conversations.create();
    const busy = client.turns.append(a.id, {
      role: 'user',
      content: QUESTION,
      expectedTurn: 0,
      respond: true,
      stream: true,
    });
    const iterator = busy[Symbol.asyncIterator]();
    await iterator.next(); // the slot is taken once the first reply streams
    const refused = client.turns.append(b.id, {
      role: 'user',
      content: 'Hello?',
      expectedTurn: 0,
      respond: true,
      stream: true,
    });
    const error = await refused.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContinuumError);
    expect(error).toMatchObject({ code: 'streams_busy', status: 429 });
    expect(refused.turn).toMatchObject({ number: 1 });
    await iterator.return(undefined);
  });
});

describe('following a conversation, and retries of plain requests', () => {
  let s: ClientTestServer | undefined;
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  afterEach(async () => {
    await proxy?.close();
    await s?.close();
  });

  it('events() follows every writer, resumes after a cut, and delivers the log exactly once', async () => {
    s = await startServer(PACED);
    proxy = await startProxy(s.port);
    const follower = s.client({ baseUrl: proxy.url });
    const writer = s.client();
    const { id } = await writer.conversations.create();
    const controller = new AbortController();
    const stream = follower.events(id, { signal: controller.signal });
    const got: ConversationEvent[] = [];
    const reading = (async () => {
      for await (const event of stream) {
        got.push(event);
        if (got.length === 4) proxy!.dropAll();
        if (event.event === 'done') return;
      }
    })();
    await writer.turns.append(id, { role: 'clinician', content: 'Good morning.', expectedTurn: 0 });
    await writer.turns.append(id, { role: 'user', content: QUESTION, expectedTurn: 1, respond: true });
    await reading;
    controller.abort();
    const log = await readLog(s.url, await tokenOf(writer), id, (e) => e.event === 'done');
    expect(plain(got)).toEqual(log);
    expect(stream.lastEventId).toBe(log.at(-1)!.id);
    expect(follower.stats.reconnects).toBe(1);

    // Later, from where it stopped: nothing old again.
    await writer.turns.append(id, { role: 'clinician', content: 'See you.', expectedTurn: 3 });
    for await (const event of follower.events(id, { after: stream.lastEventId! })) {
      expect(event).toMatchObject({ event: 'turn', data: { number: 4, content: 'See you.' } });
      break;
    }
  });

  it('an append whose answer is lost is sent again with the same key: written once, answered as replayed', async () => {
    s = await startServer();
    proxy = await startProxy(s.port);
    const tap = tapFetch();
    const client = s.client({ baseUrl: proxy.url, fetch: tap.fetch, backoff: { initialMs: 10 } });
    const { id } = await client.conversations.create();
    proxy.cutNextResponse('201 Created');
    const result = await client.turns.append(id, { role: 'user', content: 'Once only.', expectedTurn: 0 });
    expect(result).toMatchObject({ replayed: true, turn: { number: 1 } });
    expect(client.stats.networkRetries).toBe(1);
    expect((await client.turns.list(id)).map((t) => t.content)).toEqual(['Once only.']);
  });

  it('a stopped follower ends with the abort reason', async () => {
    s = await startServer();
    const client = s.client();
    const { id } = await client.conversations.create();
    const controller = new AbortController();
    const reading = (async () => {
      for await (const _ of client.events(id, { signal: controller.signal })) void _;
    })();
    setTimeout(() => controller.abort(new Error('user left')), 50);
    await expect(reading).rejects.toThrow('user left');
  });
});
