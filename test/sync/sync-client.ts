import WebSocket from 'ws';

/** A server frame as the tests read it. */
export interface Frame {
  type: string;
  id?: string | null;
  event?: string;
  data?: unknown;
  code?: string;
  [field: string]: unknown;
}

export interface Closed {
  code: number;
  reason: string;
}

/**
 * A real `ws` client of the sync route that records every frame it
 * receives, for tests: wait for a frame matching a predicate, or for the
 * close with its code.
 */
export class SyncClient {
  readonly socket: WebSocket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<Closed>;
  readonly opened: Promise<void>;
  #waiters: Array<{ match: (frame: Frame) => boolean; resolve: (frame: Frame) => void; from: number }> = [];

  constructor(url: string, protocols?: string[]) {
    this.socket = new WebSocket(url, protocols);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.socket.on('error', () => undefined);
    this.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      for (const waiter of [...this.#waiters]) {
        if (waiter.match(frame)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(frame);
        }
      }
    });
  }

  /** Connect to `/v1/conversations/{id}/sync` of `base` (http://host:port) and wait for the upgrade. */
  static async open(base: string, conversationId: string, protocols?: string[]): Promise<SyncClient> {
    const client = new SyncClient(`${base.replace(/^http/, 'ws')}/v1/conversations/${conversationId}/sync`, protocols);
    await client.opened;
    return client;
  }

  /** Open, authenticate and (unless `subscribe: false`) subscribe; resolves once `subscribed` arrived. */
  static async follow(
    base: string,
    conversationId: string,
    token: string,
    options: { after?: string | null; subscribe?: boolean } = {},
  ): Promise<SyncClient> {
    const client = await SyncClient.open(base, conversationId);
    client.send({ type: 'auth', token });
    const ready = await client.next((frame) => frame.type === 'ready' || frame.type === 'error');
    if (ready.type !== 'ready') throw new Error(`auth refused: ${JSON.stringify(ready)}`);
    if (options.subscribe !== false) {
      client.send({ type: 'subscribe', after: options.after ?? null });
      await client.next((frame) => frame.type === 'subscribed');
    }
    return client;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame (received so far or later) matching `match` after the `from`-th frame. */
  next(match: (frame: Frame) => boolean, options: { from?: number; timeoutMs?: number } = {}): Promise<Frame> {
    const from = options.from ?? 0;
    const seen = this.frames.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    const timeoutMs = options.timeoutMs ?? 15_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      const done = (frame: Frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      this.#waiters.push({ match, resolve: done, from });
    });
  }

  /** Stored events received (`type: event` with an id), in arrival order. */
  storedEvents(): Array<{ id: string; event: string; data: unknown }> {
    return this.frames
      .filter((frame) => frame.type === 'event' && typeof frame.id === 'string')
      .map((frame) => ({ id: frame.id as string, event: frame.event as string, data: frame.data }));
  }

  /** Numbers of the `turn` events received, in order. */
  turnNumbers(): number[] {
    return this.storedEvents()
      .filter((event) => event.event === 'turn')
      .map((event) => (event.data as { number: number }).number);
  }

  /** The id of the last stored event received (what a client resumes after). */
  lastEventId(): string | null {
    return this.storedEvents().at(-1)?.id ?? null;
  }

  close(): void {
    this.socket.close(1000);
  }
}
