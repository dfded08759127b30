import { AsyncQueue } from './async-queue.ts';
import { backoffDelay } from './backoff.ts';
import { ContinuumError, errorFromProblem, type Problem } from './errors.ts';
import type { TurnReader } from './rebase.ts';
import type { ClientStats } from './stats.ts';
import { SyncAppends } from './sync-appends.ts';
import { decideOnClose } from './sync-close.ts';
import { subscribedOf } from './sync-frames.ts';
import type {
  SyncAck,
  SyncAppendInput,
  SyncEvent,
  SyncOptions,
  SyncReady,
  SyncState,
  SyncTimers,
  WebSocketLike,
} from './sync-types.ts';
import type { TokenManager } from './token-manager.ts';
import type { Clock, Turn } from './types.ts';

interface SyncInit {
  baseUrl: string;
  conversationId: string;
  tokens: TokenManager;
  stats: ClientStats;
  clock: Clock;
  readTurns: TurnReader;
  options: SyncOptions;
}

const OPEN = 1;
/** The `ref` of auth frames: a refused (re-)authentication is not an append's error. */
const AUTH_REF = 'auth';
const globalTimers: SyncTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * A conversation's live sync over WebSocket (`GET …/sync`, the "Sync
 * protocol" of the API): authenticates with the first frame, subscribes
 * after the last event it saw, re-authenticates before the token is due,
 * and reconnects with backoff (close codes 4001: renew the token; 4008 and
 * 1012: resume at once or after a pause) — every time resuming after the
 * last event id, so events arrive once, in order. Appends not yet
 * acknowledged are sent again after a reconnect with the same idempotency
 * key. Close code 4004 (no such conversation) ends it with `not_found`.
 * Who else is connected arrives with each subscription (`onSubscribed`),
 * and who joins or leaves as `presence` events.
 *
 * @example
 * import WebSocket from 'ws'; // Node 20; browsers have a global WebSocket
 * const sync = client.sync(id, { WebSocket });
 * const ack = await sync.append({ role: 'user', content: 'Hello', expectedTurn: 0 });
 * for await (const event of sync) if (event.event === 'turn') console.log(event.data.content);
 */
export class SyncConnection implements AsyncIterable<SyncEvent> {
  readonly #i: SyncInit;
  readonly #timers: SyncTimers;
  readonly #queue: AsyncQueue<SyncEvent>;
  readonly #appends: SyncAppends;
  #state: SyncState = 'connecting';
  #socket: WebSocketLike | null = null;
  #socketToken: string | undefined;
  #subscribed = false;
  #failures = 0;
  #lastEventId: string | undefined;
  #turn: number | undefined;
  #reauthTimer: unknown;
  #retryTimer: unknown;
  #ready: Promise<SyncReady>;
  #settleReady!: { resolve: (ready: SyncReady) => void; reject: (error: unknown) => void };
  #error: unknown;
  /** The last `error` frame: it says why a following close happened. */
  #lastError: ContinuumError | undefined;

  constructor(init: SyncInit) {
    this.#i = init;
    this.#timers = init.options.timers ?? globalTimers;
    this.#lastEventId = init.options.after;
    this.#queue = new AsyncQueue<SyncEvent>(() => this.close());
    this.#appends = new SyncAppends(
      (frame) => {
        if (this.#subscribed) this.#send(frame);
      },
      init.readTurns,
      init.stats,
    );
    this.#ready = new Promise((resolve, reject) => {
      this.#settleReady = { resolve, reject };
    });
    this.#ready.catch(() => {});
    const signal = init.options.signal;
    if (signal?.aborted) {
      this.#state = 'closed';
      this.#queue.end();
      return;
    }
    signal?.addEventListener('abort', () => this.close(), { once: true });
    this.#open();
  }

  /** Where the connection stands. */
  get state(): SyncState {
    return this.#state;
  }

  /** The id of the last stored event received (pass it as `after` to resume later). */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** The conversation's turn as last seen (from `ready`, acks and turn events). */
  get turn(): number | undefined {
    return this.#turn;
  }

  /** Resolves at the first `ready`; rejects if the connection fails for good first. */
  ready(): Promise<SyncReady> {
    return this.#ready;
  }

  /**
   * Appends a turn over the socket; resolves with the server's `ack`. Sent
   * again after a reconnect (same idempotency key) until acknowledged.
   *
   * @throws ContinuumError `turn_conflict` (unless rebased), `sync_closed` when the connection closes first, …
   */
  append(input: SyncAppendInput): Promise<SyncAck> {
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    return this.#appends.add(input, this.#subscribed);
  }

  /** Tells the others that this subject is typing (dropped while disconnected). */
  typing(): void {
    if (this.#subscribed) this.#send({ type: 'typing' });
  }

  /** Closes the connection for good; pending appends reject with `sync_closed`. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    this.#timers.clearTimeout(this.#reauthTimer);
    this.#timers.clearTimeout(this.#retryTimer);
    const socket = this.#socket;
    this.#socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.close(1000, 'client closed');
    }
    const error = this.#closedError();
    this.#appends.rejectAll(error);
    this.#settleReady.reject(error);
    this.#queue.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<SyncEvent> {
    return this.#queue;
  }

  #open(): void {
    const WS = this.#i.options.WebSocket ?? (globalThis as { WebSocket?: SyncOptions['WebSocket'] }).WebSocket;
    if (!WS) throw new TypeError('No global WebSocket here: pass options.WebSocket (on Node 20, from the ws package)');
    const url = `${this.#i.baseUrl.replace(/^http/, 'ws')}/v1/conversations/${encodeURIComponent(this.#i.conversationId)}/sync`;
    const socket = new WS(url);
    this.#socket = socket;
    this.#subscribed = false;
    socket.onopen = () => {
      this.#i.tokens.accessToken().then(
        (token) => {
          if (this.#socket !== socket) return;
          this.#socketToken = token;
          this.#send({ type: 'auth', token, ref: AUTH_REF });
        },
        (error: unknown) => this.#fail(error),
      );
    };
    socket.onmessage = (message) => {
      if (this.#socket !== socket) return;
      const text = typeof message.data === 'string' ? message.data : undefined;
      if (text === undefined) return;
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return;
      }
      this.#onFrame(frame);
    };
    socket.onerror = () => {
      // A close event follows with the code that matters.
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#onClose(event.code);
    };
  }

  #onFrame(frame: Record<string, unknown>): void {
    switch (frame['type']) {
      case 'ready': {
        const ready = frame as unknown as SyncReady;
        this.#failures = 0;
        if (typeof ready.turn === 'number') this.#turn = Math.max(this.#turn ?? 0, ready.turn);
        this.#scheduleReauth();
        if (!this.#subscribed) {
          this.#subscribed = true;
          this.#send({ type: 'subscribe', after: this.#lastEventId ?? null });
          this.#setState('open');
          this.#appends.sendAll();
        }
        this.#settleReady.resolve(ready);
        this.#i.options.onReady?.(ready);
        return;
      }
      case 'subscribed':
        this.#i.options.onSubscribed?.(subscribedOf(frame));
        return;
      case 'event':
        this.#onEvent(frame);
        return;
      case 'truncated':
        if (typeof frame['oldestId'] === 'string') this.#i.options.onTruncated?.(frame['oldestId']);
        return;
      case 'ack':
        this.#onAck(frame);
        return;
      case 'error':
        this.#onError(frame);
        return;
      default:
      // Frames of later protocol versions need nothing here.
    }
  }

  #onEvent(frame: Record<string, unknown>): void {
    const id = typeof frame['id'] === 'string' ? frame['id'] : null;
    if (id !== null) {
      if (id === this.#lastEventId) return;
      this.#lastEventId = id;
    }
    const event = { id, event: frame['event'], data: frame['data'] } as SyncEvent;
    if (event.event === 'turn' || event.event === 'done') {
      this.#turn = Math.max(this.#turn ?? 0, (event.data as Turn).number);
    }
    this.#i.options.onEvent?.(event);
    this.#queue.push(event);
  }

  #onAck(frame: Record<string, unknown>): void {
    const currentTurn = this.#appends.ack(frame);
    if (currentTurn !== undefined) this.#turn = Math.max(this.#turn ?? 0, currentTurn);
  }

  #onError(frame: Record<string, unknown>): void {
    const error = errorFromProblem(frame as Problem, typeof frame['status'] === 'number' ? frame['status'] : 400);
    this.#lastError = error;
    const link = () => (this.#state === 'closed' ? 'closed' : this.#subscribed ? 'subscribed' : 'waiting');
    if (!this.#appends.error(frame, error, link)) this.#i.options.onError?.(error);
  }

  #onClose(code: number): void {
    this.#socket = null;
    this.#subscribed = false;
    this.#timers.clearTimeout(this.#reauthTimer);
    if (this.#state === 'closed') return;
    this.#failures += 1;
    const decision = decideOnClose(code, this.#lastError, this.#failures);
    this.#lastError = undefined;
    if (decision.kind === 'stop') {
      this.#fail(decision.error);
      return;
    }
    if (decision.rejectInFlight) this.#appends.rejectAll(decision.rejectInFlight);
    if (this.#failures > (this.#i.options.maxReconnects ?? Number.POSITIVE_INFINITY)) {
      this.#fail(new ContinuumError({ code: 'network_error', status: 0, detail: `Sync closed (${code}) too often` }));
      return;
    }
    this.#setState('reconnecting');
    this.#i.stats.reconnects += 1;
    const delay = decision.immediate ? 0 : backoffDelay(this.#failures, this.#i.options.backoff);
    const rejected = this.#socketToken;
    this.#retryTimer = this.#timers.setTimeout(() => {
      const renewed = decision.renew && rejected !== undefined ? this.#i.tokens.renew(rejected) : Promise.resolve('');
      renewed.then(
        () => {
          if (this.#state !== 'closed') this.#open();
        },
        (error: unknown) => this.#fail(error),
      );
    }, delay);
  }

  /** Sends a fresh `auth` when the token is due, so the socket never outlives its token. */
  #scheduleReauth(): void {
    this.#timers.clearTimeout(this.#reauthTimer);
    const due = this.#i.tokens.refreshDueAt;
    if (due === undefined) return;
    const delay = Math.max(0, due - this.#i.clock.now());
    this.#reauthTimer = this.#timers.setTimeout(() => {
      this.#i.tokens.accessToken().then(
        (token) => {
          if (!this.#socket || this.#state === 'closed') return;
          this.#socketToken = token;
          this.#send({ type: 'auth', token, ref: AUTH_REF });
        },
        (error: unknown) => this.#i.options.onError?.(error as ContinuumError),
      );
    }, delay);
  }

  #send(frame: Record<string, unknown>): void {
    const socket = this.#socket;
    if (socket && socket.readyState === OPEN) socket.send(JSON.stringify(frame));
  }

  #setState(state: SyncState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#i.options.onStateChange?.(state);
  }

  #fail(error: unknown): void {
    if (this.#state === 'closed') return;
    this.#error = error;
    this.#queue.fail(error);
    this.close();
  }

  #closedError(): unknown {
    return (
      this.#error ?? new ContinuumError({ code: 'sync_closed', status: 0, detail: 'The sync connection is closed' })
    );
  }
}
