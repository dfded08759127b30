import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  callJson,
  type ServerProcess,
  startServerProcess,
  stopAllServerProcesses,
  tenantWithToken,
} from '../helpers/server-process.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';
import { SyncClient } from '../sync/sync-client.ts';
import { allTurns, type Conversation, firstBrokenTurn, type Turn } from './support.ts';

/** One server-sent event as a client sees it. */
interface SseEvent {
  id?: string;
  event: string;
  data: string;
  retry?: number;
}

/**
 * An SSE client over fetch: collects every event until the server ends the
 * stream (or `close()`), and remembers how the stream ended.
 */
function follow(url: string, token: string, init: { method?: string; body?: unknown; lastEventId?: string } = {}) {
  const events: SseEvent[] = [];
  const leave = new AbortController();
  const waiters: { test: (e: SseEvent) => boolean; resolve: () => void }[] = [];
  let opened!: () => void;
  const open = new Promise<void>((resolve) => {
    opened = resolve;
  });
  const done = (async () => {
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      signal: leave.signal,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'text/event-stream',
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(init.lastEventId === undefined ? {} : { 'last-event-id': init.lastEventId }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    if (res.status !== 200) throw new Error(`SSE ${url}: ${res.status} ${await res.text()}`);
    opened();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          const event: SseEvent = { event: 'message', data: '' };
          const data: string[] = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon === -1 ? line : line.slice(0, colon);
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') event.id = value;
            else if (field === 'event') event.event = value;
            else if (field === 'data') data.push(value);
            else if (field === 'retry') event.retry = Number(value);
          }
          if (data.length === 0 && event.id === undefined) continue;
          event.data = data.join('\n');
          events.push(event);
          for (const waiter of waiters.filter((w) => w.test(event))) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
      }
      return 'ended' as const;
    } catch (error) {
      if (leave.signal.aborted) return 'left' as const;
      return `broken: ${String((error as { cause?: unknown }).cause ?? error)}` as const;
    }
  })();
  return {
    events,
    open,
    /** How the stream ended: `ended` (the server ended it cleanly), `left`, or `broken: …`. */
    done,
    until(test: (e: SseEvent) => boolean): Promise<void> {
      if (events.some(test)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
    close: () => leave.abort(),
  };
}

type Follower = ReturnType<typeof follow>;

/** The last event of a stream that ended with the resumable shutdown event, checked; returns it. */
function expectReconnectEnd(follower: Follower, label: string): SseEvent {
  const last = follower.events.at(-1);
  expect(last?.event, `${label}: last event`).toBe('reconnect');
  const previous = follower.events.at(-2);
  const body = JSON.parse(last!.data) as { reason: string; lastEventId: string | null; resume?: string };
  expect(body.reason).toBe('server_restarting');
  expect(last!.retry).toBeGreaterThan(0);
  // Its id is the last event the client got (or where it resumed from), so Last-Event-ID resumes right there.
  expect(body.lastEventId).toBe(last!.id ?? null);
  if (previous) expect(last!.id, `${label}: reconnect id`).toBe(previous.id);
  return last!;
}

// Issue 8: "kill -TERM under load loses nothing". A real `continuum serve`
// process gets SIGTERM while 20 writers append and SSE clients follow.
describe('graceful shutdown: SIGTERM under load', () => {
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  const followers: Follower[] = [];

  afterEach((context) => {
    for (const follower of followers.splice(0)) follower.close();
    if (context.task.result?.state === 'fail') {
      for (const server of servers)
        console.error(`--- server ${server.pid} (tail) ---\n${server.output().slice(-6000)}`);
    }
  });

  afterAll(async () => {
    await stopAllServerProcesses();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('acknowledged turns are all stored, in-flight replies finish, SSE clients get a resumable end event and sync clients 1012, exit 0', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'continuum-e2e-shutdown-'));
    dirs.push(dataDir);
    const env = { CONTINUUM_SHUTDOWN_GRACE: '5', CONTINUUM_LOCAL_WORD_DELAY_MS: '10' };
    const first = await startServerProcess({ dataDir, env });
    servers.push(first);
    const { token } = await tenantWithToken(first.url, `shutdown-${process.pid}`, 'patient-shutdown');
    const create = async (title: string) => {
      const res = await callJson<Conversation>(first.url, 'POST', '/v1/conversations', { token, body: { title } });
      expect(res.status).toBe(201);
      return res.body.id;
    };
    const eventsUrl = (server: ServerProcess, id: string) => `${server.url}/v1/conversations/${id}/events`;

    const writers = await Promise.all(
      Array.from({ length: 20 }, async (_, w) => ({
        w,
        id: await create(`writer ${w}`),
        acked: [] as Turn[],
        end: '' as string,
      })),
    );
    // A conversation with one turn, followed from that turn on (nothing new arrives before the stop)…
    const quiet = await create('quiet');
    const quietTurn = await callJson<{ turn: Turn }>(first.url, 'POST', `/v1/conversations/${quiet}/turns`, {
      token,
      body: { role: 'user', content: 'Nothing else will be said here.', expectedTurn: 0 },
    });
    expect(quietTurn.status).toBe(201);
    const quietHistory = follow(eventsUrl(first, quiet), token);
    followers.push(quietHistory);
    await quietHistory.until((e) => e.event === 'turn');
    const quietResumed = follow(eventsUrl(first, quiet), token, { lastEventId: quietHistory.events[0]!.id! });
    // …and an empty one, followed from the start.
    const empty = await create('empty');
    const emptyFollower = follow(eventsUrl(first, empty), token);
    // Three followers of busy conversations.
    const busy = [0, 1, 2].map((w) => follow(eventsUrl(first, writers[w]!.id), token));
    followers.push(quietResumed, emptyFollower, ...busy);
    await Promise.all([quietResumed.open, emptyFollower.open, ...busy.map((f) => f.open)]);
    // And two WebSocket sync clients.
    const synced = await Promise.all([3, 4].map((w) => SyncClient.follow(first.url, writers[w]!.id, token)));

    let ackedTotal = 0;
    let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
    let replies: { id: string; stream: Follower }[] = [];
    const stopAfter = 200;
    const writing = Promise.all(
      writers.map(async (writer) => {
        for (;;) {
          let res: Response;
          try {
            res = await fetch(`${first.url}/v1/conversations/${writer.id}/turns`, {
              method: 'POST',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              body: JSON.stringify({
                role: 'user',
                content: `w${writer.w} t${writer.acked.length + 1}`,
                expectedTurn: writer.acked.length,
              }),
            });
          } catch (error) {
            // No response at all: refused or reset before any answer (nothing acknowledged).
            writer.end = `no response: ${String((error as { cause?: { code?: string } }).cause?.code ?? error)}`;
            return;
          }
          let text: string;
          try {
            text = await res.text();
          } catch (error) {
            writer.end = `reset after status ${res.status}: ${String(error)}`;
            return;
          }
          if (res.status !== 201) {
            writer.end = `status ${res.status}`;
            return;
          }
          writer.acked.push((JSON.parse(text) as { turn: Turn }).turn);
          ackedTotal += 1;
          if (ackedTotal === stopAfter) {
            // Two replies streaming at the moment of the stop.
            replies = await Promise.all(
              [0, 1].map(async (n) => {
                const id = await create(`reply ${n}`);
                const stream = follow(`${first.url}/v1/conversations/${id}/turns`, token, {
                  method: 'POST',
                  body: {
                    role: 'user',
                    content: 'I take metformin 500 mg twice a day. What do I take?',
                    expectedTurn: 0,
                    respond: true,
                  },
                });
                await stream.until((e) => e.event === 'delta');
                return { id, stream };
              }),
            );
            stopping = first.stop('SIGTERM');
          }
        }
      }),
    );
    await writing;
    expect(stopping).not.toBeNull();
    const exit = await stopping!;
    expect(exit, first.output().slice(-3000)).toEqual({ code: 0, signal: null });
    expect(first.output()).toContain('continuum stopped');

    // Every writer stopped on a refusal or a refused/reset connection; none lost its answer after a status line.
    for (const writer of writers) {
      expect(writer.end, `writer ${writer.w}`).toMatch(/^(status 503|no response: )/);
    }
    expect(ackedTotal).toBeGreaterThanOrEqual(stopAfter);

    // In-flight replies finished within the grace period: each stream ended with `done`.
    for (const { stream } of replies) {
      expect(await stream.done).toBe('ended');
      expect(stream.events.at(-1)?.event).toBe('done');
    }

    // Every follower got the resumable end event and a clean end of stream.
    for (const [label, follower] of [
      ['quiet (resumed)', quietResumed],
      ['empty', emptyFollower],
      ...busy.map((f, n) => [`busy ${n}`, f] as const),
    ] as const) {
      expect(await follower.done, label).toBe('ended');
      expectReconnectEnd(follower, label);
    }
    expect(quietResumed.events).toHaveLength(1);
    expect(quietResumed.events[0]!.id).toBe(quietHistory.events[0]!.id);
    expect(emptyFollower.events).toHaveLength(1);
    expect(emptyFollower.events[0]!.id).toBeUndefined();
    // Sync clients were told to reconnect: close code 1012 (server restarting).
    for (const client of synced) expect((await client.closed).code).toBe(1012);

    // A new process on the same data dir has exactly the acknowledged turns.
    const second = await startServerProcess({ dataDir, env });
    servers.push(second);
    for (const writer of writers) {
      const stored = await allTurns(second.url, token, writer.id);
      expect(stored, `writer ${writer.w}`).toEqual(writer.acked);
      expect(firstBrokenTurn(writer.id, stored)).toBeNull();
    }
    for (const { id, stream } of replies) {
      const stored = await allTurns(second.url, token, id);
      expect(stored.map((t) => t.role)).toEqual(['user', 'assistant']);
      expect(JSON.parse(stream.events.at(-1)!.data)).toEqual(stored[1]);
    }

    // A follower resumes on the new process from its end event's id: it misses nothing and repeats nothing.
    const follower = busy[0]!;
    const writer = writers[0]!;
    const seen = follower.events.filter((e) => e.event === 'turn').map((e) => (JSON.parse(e.data) as Turn).number);
    const resumed = follow(eventsUrl(second, writer.id), token, { lastEventId: follower.events.at(-1)!.id! });
    followers.push(resumed);
    await resumed.open;
    const next = await callJson<{ turn: Turn }>(second.url, 'POST', `/v1/conversations/${writer.id}/turns`, {
      token,
      body: { role: 'user', content: 'after the restart', expectedTurn: writer.acked.length },
    });
    expect(next.status).toBe(201);
    await resumed.until((e) => e.event === 'turn' && (JSON.parse(e.data) as Turn).number === next.body.turn.number);
    const replayed = resumed.events.filter((e) => e.event === 'turn').map((e) => (JSON.parse(e.data) as Turn).number);
    expect([...seen, ...replayed]).toEqual(Array.from({ length: writer.acked.length + 1 }, (_, i) => i + 1));
    await second.stop('SIGTERM');
  });
});

// The same drain, in process: what the grace period bounds and what it does not wait for.
describe('graceful shutdown: the grace period', () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const t of apps.splice(0)) await t.close();
  });

  async function listening(config: Record<string, unknown>) {
    const t = await buildTestApp({ config });
    apps.push(t);
    const url = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { apiKey } = await t.createTenant();
    const token = (await t.token(apiKey, 'patient-1')).access_token;
    const id = (await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).json().id as string;
    return { t, url, token, id };
  }

  /** Stop the app; resolves with how long the stop took, in ms. */
  const stopping = async (t: TestApp) => {
    const started = performance.now();
    await t.app.close();
    return performance.now() - started;
  };

  const question = 'I take metformin 500 mg twice a day. What do I take?';

  it('an in-flight JSON reply finishes within the grace period and its client gets the 201', async () => {
    const { t, url, token, id } = await listening({ localWordDelayMs: 20, shutdownGrace: 10 });
    const pending = fetch(`${url}/v1/conversations/${id}/turns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'user', content: question, expectedTurn: 0, respond: true }),
    });
    // The user turn is stored, so the reply is being generated, when the stop begins.
    await expect
      .poll(async () => (await t.request({ method: 'GET', url: `/v1/conversations/${id}`, token })).json().turn)
      .toBe(1);
    await stopping(t);
    const res = await pending;
    expect(res.status).toBe(201);
    const body = (await res.json()) as { turn: Turn; reply: Turn };
    expect(body.reply).toMatchObject({ number: 2, role: 'assistant' });
  });

  it('a reply still generating when the grace period ends is cut off with event: error reply_interrupted, stored for every follower', async () => {
    const { t, url, token, id } = await listening({ localWordDelayMs: 400, shutdownGrace: 1 });
    const stream = follow(`${url}/v1/conversations/${id}/turns`, token, {
      method: 'POST',
      body: { role: 'user', content: question, expectedTurn: 0, respond: true },
    });
    // A follower of the conversation (on this node here; on any node it reads the same event log).
    const follower = follow(`${url}/v1/conversations/${id}/events`, token);
    await follower.open;
    await stream.until((e) => e.event === 'delta');
    const took = await stopping(t);
    // It waited for the reply as long as the grace period allowed (and not for ever).
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(15_000);
    expect(await stream.done).toBe('ended');
    const events = stream.events.map((e) => e.event);
    expect(events).not.toContain('done');
    // The client learns at once that this reply will not come, instead of waiting for it after a reconnect.
    const last = stream.events.at(-1)!;
    expect(last.event).toBe('error');
    expect(JSON.parse(last.data)).toMatchObject({ code: 'reply_interrupted', status: 503 });
    expect(await follower.done).toBe('ended');
    const followerEnd = expectReconnectEnd(follower, 'follower');

    // Restarted on the same data: the user turn is there, no partial reply, and the log ends with the error.
    const again = await buildTestApp({ dataDir: t.dataDir, clock: t.clock });
    apps.push(again);
    const turns = (await again.request({ method: 'GET', url: `/v1/conversations/${id}/turns`, token })).json();
    expect(turns.items.map((turn: Turn) => turn.role)).toEqual(['user']);
    const againUrl = await again.app.listen({ host: '127.0.0.1', port: 0 });
    const resumed = follow(`${againUrl}/v1/conversations/${id}/events`, token, {
      lastEventId: stream.events.at(-2)!.id!,
    });
    await resumed.until((e) => e.event === 'error');
    resumed.close();
    expect(resumed.events.map((e) => [e.id, e.event])).toEqual([[last.id, 'error']]);
    // The follower saw the error live, or resuming where its reconnect event said finds it: never lost.
    const seen = follower.events.filter((e) => e.event === 'error').map((e) => e.id);
    if (seen.length === 0) {
      const caughtUp = follow(`${againUrl}/v1/conversations/${id}/events`, token, { lastEventId: followerEnd.id! });
      await caughtUp.until((e) => e.event === 'error');
      caughtUp.close();
      seen.push(...caughtUp.events.filter((e) => e.event === 'error').map((e) => e.id));
    }
    expect(seen).toEqual([last.id]);
  });

  it('an endless follower does not hold the stop: it gets reconnect at once, at the event it resumed from', async () => {
    const { t, url, token, id } = await listening({ shutdownGrace: 60 });
    const first = await t.request({
      method: 'POST',
      url: `/v1/conversations/${id}/turns`,
      token,
      body: { role: 'user', content: 'Hello.', expectedTurn: 0 },
    });
    expect(first.statusCode).toBe(201);
    const history = follow(`${url}/v1/conversations/${id}/events`, token);
    await history.until((e) => e.event === 'turn');
    const resumedFrom = history.events[0]!.id!;
    history.close();
    const follower = follow(`${url}/v1/conversations/${id}/events`, token, { lastEventId: resumedFrom });
    await follower.open;
    expect(await stopping(t)).toBeLessThan(15_000);
    expect(await follower.done).toBe('ended');
    expect(follower.events).toHaveLength(1);
    expect(follower.events[0]).toMatchObject({ id: resumedFrom, event: 'reconnect' });
    expectReconnectEnd(follower, 'follower');
  });
});
