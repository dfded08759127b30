import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type {
  ContinuumClient,
  SyncConnection,
  SyncOptions,
  SyncPresence,
  SyncSubscribed,
  WebSocketConstructor,
} from '../../src/client/index.ts';
import { type ClientTestServer, startProxy, startServer, tick } from './support.ts';

const WS = WebSocket as unknown as WebSocketConstructor;

/** Waits until `check` holds (polling), failing after `ms`. */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await tick(10);
  }
}

/** A sync connection with what it was told about presence: every `subscribed`, and every `presence` event. */
interface Watcher {
  sync: SyncConnection;
  /** Its own connection id, from `ready`. */
  connection: string;
  subscribed: SyncSubscribed[];
  presence: SyncPresence[];
}

/** The members of `present`, as `subject/connection`, sorted. */
const ids = (members: readonly { subject: string; connection: string }[]) =>
  members.map((m) => `${m.subject}/${m.connection}`).sort();

describe('presence over the SDK’s sync: who else is connected (onSubscribed) and who joins or leaves', () => {
  let s: ClientTestServer | undefined;
  const syncs: SyncConnection[] = [];
  afterEach(async () => {
    for (const sync of syncs.splice(0)) sync.close();
    await s?.close();
    s = undefined;
  });

  /** Opens a sync connection and waits until it is subscribed. */
  async function watch(client: ContinuumClient, id: string, options: SyncOptions = {}): Promise<Watcher> {
    const subscribed: SyncSubscribed[] = [];
    const presence: SyncPresence[] = [];
    const sync = client.sync(id, {
      WebSocket: WS,
      onSubscribed: (frame) => subscribed.push(frame),
      onEvent: (event) => {
        if (event.event === 'presence') presence.push(event.data as SyncPresence);
      },
      ...options,
    });
    syncs.push(sync);
    const ready = await sync.ready();
    await until(() => subscribed.length === 1);
    return { sync, connection: String(ready['connection']), subscribed, presence };
  }

  it('lists who is already there on subscribing, and tells the others who joined and who left', async () => {
    s = await startServer();
    const owner = s.client();
    const { id } = await owner.conversations.create();
    const invited = await fetch(`${s.url}/v1/conversations/${id}/participants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await owner.tokens.accessToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'clinician-3' }),
    });
    expect(invited.status).toBe(201);

    const first = await watch(owner, id);
    expect(first.subscribed[0]).toMatchObject({ type: 'subscribed', after: null, present: [] });

    // The same subject in a second tab, then an invited clinician.
    const second = await watch(s.client(), id);
    expect(ids(second.subscribed[0]!.present)).toEqual([`patient-1/${first.connection}`]);
    const clinician = await watch(s.client({ subject: 'clinician-3' }), id);
    expect(ids(clinician.subscribed[0]!.present)).toEqual(
      ids([
        { subject: 'patient-1', connection: first.connection },
        { subject: 'patient-1', connection: second.connection },
      ]),
    );
    await until(() => first.presence.length === 2);
    expect(first.presence).toEqual([
      { subject: 'patient-1', connection: second.connection, status: 'joined' },
      { subject: 'clinician-3', connection: clinician.connection, status: 'joined' },
    ]);

    second.sync.close();
    await until(() => first.presence.length === 3 && clinician.presence.length === 1);
    expect(first.presence[2]).toEqual({ subject: 'patient-1', connection: second.connection, status: 'left' });
    expect(clinician.presence).toEqual([{ subject: 'patient-1', connection: second.connection, status: 'left' }]);
    // Nobody is told about itself.
    expect(first.presence.some((p) => p.connection === first.connection)).toBe(false);
    expect(clinician.presence.some((p) => p.connection === clinician.connection)).toBe(false);
  });

  it('after a reconnect, onSubscribed gives the list afresh: the others as they are now', async () => {
    s = await startServer();
    const proxy = await startProxy(s.port);
    try {
      const owner = s.client();
      const { id } = await owner.conversations.create();
      const flaky = await watch(s.client({ baseUrl: proxy.url, backoff: { initialMs: 20, maxMs: 100 } }), id);
      const steady = await watch(owner, id);
      await until(() => flaky.presence.length === 1);
      expect(flaky.presence[0]).toMatchObject({ connection: steady.connection, status: 'joined' });

      // While the flaky one is away, the steady one leaves and another tab arrives.
      proxy.stallAll();
      steady.sync.close();
      const late = await watch(s.client(), id);
      proxy.dropAll();
      await until(() => flaky.subscribed.length === 2);
      expect(ids(flaky.subscribed[1]!.present)).toEqual([`patient-1/${late.connection}`]);
      // The steady one's leaving was never delivered to the flaky one: only the fresh list says it is gone.
      expect(flaky.presence.filter((p) => p.connection === steady.connection)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});
