import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  ContinuumError,
  type SyncConnection,
  type SyncEvent,
  type SyncTimers,
  type WebSocketConstructor,
} from '../../src/client/index.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { buildTestApp, type TestApp, tempDataDir } from '../helpers/test-app.ts';
import { type ClientTestServer, readLog, startProxy, startServer, tick } from './support.ts';

const MINUTE = 60_000;
const WS = WebSocket as unknown as WebSocketConstructor;
const ROUTE = new URL('../../src/server/routes/sync.ts', import.meta.url);
const hasRoute = existsSync(ROUTE);
const describeSync = hasRoute ? describe : describe.skip;

/** Waits until `check` holds (polling), failing after `ms`. */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await tick(10);
  }
}

/** Collects a connection's stored events (ephemeral ones, without id, aside). */
function collect(sync: SyncConnection): { stored: SyncEvent[]; all: SyncEvent[]; done: Promise<void> } {
  const stored: SyncEvent[] = [];
  const all: SyncEvent[] = [];
  const done = (async () => {
    for await (const event of sync) {
      all.push(event);
      if (event.id !== null) stored.push(event);
    }
  })();
  done.catch(() => {});
  return { stored, all, done };
}

const plain = (events: SyncEvent[]) => events.map(({ id, event, data }) => ({ id, event, data }));

describeSync(
  hasRoute ? 'sync over WebSocket' : 'sync over WebSocket (skipped: src/server/routes/sync.ts does not exist yet)',
  () => {
    let s: ClientTestServer | undefined;
    const syncs: SyncConnection[] = [];
    const extra: TestApp[] = [];
    const dirs: Array<{ remove(): void }> = [];
    afterEach(async () => {
      for (const sync of syncs.splice(0)) sync.close();
      for (const app of extra.splice(0)) await app.close();
      await s?.close();
      s = undefined;
      for (const dir of dirs.splice(0)) dir.remove();
    });
    const open = (sync: SyncConnection) => {
      syncs.push(sync);
      return sync;
    };

    it('authenticates, subscribes, receives other writers’ turns and acknowledges its own appends', async () => {
      s = await startServer();
      const client = s.client();
      const writer = s.client();
      const { id } = await client.conversations.create();
      const states: string[] = [];
      const sync = open(client.sync(id, { WebSocket: WS, onStateChange: (state) => states.push(state) }));
      const got = collect(sync);
      const ready = await sync.ready();
      expect(ready).toMatchObject({ conversationId: id, turn: 0 });
      await writer.turns.append(id, { role: 'clinician', content: 'Good morning.', expectedTurn: 0 });
      const ack = await sync.append({ role: 'user', content: 'Morning!', expectedTurn: 1 });
      expect(ack).toMatchObject({ turn: { number: 2, content: 'Morning!' }, currentTurn: 2, replayed: false });
      sync.typing();
      await until(() => got.stored.length === 2);
      expect(got.stored.map((e) => e.event === 'turn' && e.data.content)).toEqual(['Good morning.', 'Morning!']);
      expect(sync.turn).toBe(2);
      expect(states).toEqual(['open']);
    });

    it('a reply asked for over sync streams to every connection of the conversation', async () => {
      s = await startServer({ config: { localWordDelayMs: 5, sseFlushMs: 0 } });
      const client = s.client();
      const { id } = await client.conversations.create();
      const watcher = open(s.client().sync(id, { WebSocket: WS }));
      const got = collect(watcher);
      await watcher.ready();
      const sync = open(client.sync(id, { WebSocket: WS }));
      await sync.ready();
      await sync.append({ role: 'user', content: 'I take metformin. What do I take?', expectedTurn: 0, respond: true });
      await until(() => got.stored.some((e) => e.event === 'done'));
      const deltas = got.stored.filter((e) => e.event === 'delta').map((e) => (e.data as { text: string }).text);
      const done = got.stored.find((e) => e.event === 'done')!;
      expect(deltas.join('')).toBe((done.data as { content: string }).content);
    });

    it('reconnects after a cut and resumes after the last event id: the log once, in order', async () => {
      s = await startServer();
      const proxy = await startProxy(s.port);
      try {
        const client = s.client({ baseUrl: proxy.url, backoff: { initialMs: 20, maxMs: 100 } });
        const writer = s.client();
        const { id } = await writer.conversations.create();
        const sync = open(client.sync(id, { WebSocket: WS }));
        const got = collect(sync);
        await sync.ready();
        for (let n = 0; n < 10; n += 1) {
          await writer.turns.append(id, { role: 'user', content: `m${n}`, expectedTurn: n });
          if (n === 3 || n === 7) {
            await until(() => got.stored.length === n + 1);
            proxy.dropAll();
          }
        }
        await until(() => got.stored.length >= 10);
        const log = await readLog(s.url, await writer.tokens.accessToken(), id, (_e, all) => all.length === 10);
        expect(plain(got.stored)).toEqual(log);
        expect(client.stats.reconnects).toBe(2);
        expect(sync.lastEventId).toBe(log.at(-1)!.id);
      } finally {
        await proxy.close();
      }
    });

    it('re-authenticates before the token is due: the socket outlives its first token without a reconnect', async () => {
      s = await startServer();
      const timers = new ClockTimers(s.clock);
      const client = s.client();
      const { id } = await client.conversations.create();
      const readies: number[] = [];
      const sync = open(client.sync(id, { WebSocket: WS, timers, onReady: (r) => readies.push(r.turn) }));
      await sync.ready();
      timers.advance(25 * MINUTE);
      await until(() => readies.length === 2);
      expect(client.stats.refreshes).toBe(1);
      s.clock.advance(15 * MINUTE); // 40 minutes: the first token is long expired, the second is not
      await tick(1500); // the server checks expiry every second
      const ack = await sync.append({ role: 'user', content: 'still connected', expectedTurn: 0 });
      expect(ack.turn.number).toBe(1);
      expect(client.stats.reconnects).toBe(0);
      expect(sync.state).toBe('open');
    });

    it('closed with 4001 at expiry (no re-authentication), it renews the token, reconnects and misses nothing', async () => {
      s = await startServer();
      // The device clock is stuck: the client never thinks its token is due, the server closes at expiry.
      const client = s.client({ clock: new FakeClock(s.clock.now()) });
      const writer = s.client();
      const { id } = await writer.conversations.create();
      const sync = open(client.sync(id, { WebSocket: WS }));
      const got = collect(sync);
      await sync.ready();
      await writer.turns.append(id, { role: 'user', content: 'before', expectedTurn: 0 });
      await until(() => got.stored.length === 1);
      s.clock.advance(31 * MINUTE);
      await writer.turns.append(id, { role: 'user', content: 'during', expectedTurn: 1 });
      await until(() => client.stats.reconnects === 1);
      await writer.turns.append(id, { role: 'user', content: 'after', expectedTurn: 2 });
      await until(() => got.stored.length === 3);
      expect(got.stored.map((e) => (e.data as { content: string }).content)).toEqual(['before', 'during', 'after']);
      expect(client.stats.refreshes).toBe(1);
      expect(sync.state).toBe('open');
    });

    it('a restarting server (1012): reconnects to the new process and resumes', async () => {
      const dir = tempDataDir();
      dirs.push(dir);
      const clock = new FakeClock(Date.UTC(2026, 10, 25, 8));
      s = await startServer({ dataDir: dir.dir, clock });
      const proxy = await startProxy(s.port);
      try {
        const client = s.client({ baseUrl: proxy.url, backoff: { initialMs: 50, maxMs: 200 } });
        const { id } = await client.conversations.create();
        const sync = open(client.sync(id, { WebSocket: WS }));
        const got = collect(sync);
        await sync.ready();
        await client.turns.append(id, { role: 'user', content: 'one', expectedTurn: 0 });
        await until(() => got.stored.length === 1);
        await s.t.app.close(); // closes every sync socket with 1012
        const next = await buildTestApp({ dataDir: dir.dir, clock });
        extra.push(next);
        proxy.retarget(Number(new URL(await next.app.listen({ host: '127.0.0.1', port: 0 })).port));
        await until(() => sync.state === 'open' && client.stats.reconnects >= 1);
        await client.turns.append(id, { role: 'user', content: 'two', expectedTurn: 1 });
        await until(() => got.stored.length === 2);
        expect(got.stored.map((e) => (e.data as { content: string }).content)).toEqual(['one', 'two']);
      } finally {
        await proxy.close();
      }
    });

    it('turn_conflict over sync is typed, and onConflict: rebase appends after the missed turns', async () => {
      s = await startServer();
      const client = s.client();
      const { id } = await client.conversations.create();
      await s.client().turns.append(id, { role: 'clinician', content: 'first', expectedTurn: 0 });
      const sync = open(client.sync(id, { WebSocket: WS }));
      await sync.ready();
      const error = await sync.append({ role: 'user', content: 'late', expectedTurn: 0 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ContinuumError);
      expect(error).toMatchObject({ code: 'turn_conflict', currentTurn: 1 });
      const ack = await sync.append({ role: 'user', content: 'late', expectedTurn: 0, onConflict: 'rebase' });
      expect(ack).toMatchObject({ turn: { number: 2 }, rebases: 1 });
    });

    it("another subject's conversation closes with 4004: the connection ends with not_found", async () => {
      s = await startServer();
      const { id } = await s.client().conversations.create();
      const sync = open(s.client({ subject: 'patient-2' }).sync(id, { WebSocket: WS }));
      const error = await sync.ready().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'not_found' });
      await expect(sync[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'not_found' });
      expect(sync.state).toBe('closed');
      await expect(sync.append({ role: 'user', content: 'x', expectedTurn: 0 })).rejects.toMatchObject({
        code: 'not_found',
      });
    });
  },
);

/** Timers that fire when the test moves the fake clock through them. */
class ClockTimers implements SyncTimers {
  readonly #clock: FakeClock;
  readonly #due = new Map<number, { at: number; callback: () => void }>();
  #next = 1;
  constructor(clock: FakeClock) {
    this.#clock = clock;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#due.set(id, { at: this.#clock.now() + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#due.delete(handle as number);
  }
  advance(ms: number): void {
    this.#clock.advance(ms);
    for (const [id, timer] of [...this.#due]) {
      if (timer.at > this.#clock.now()) continue;
      this.#due.delete(id);
      timer.callback();
    }
  }
}
