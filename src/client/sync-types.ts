import type { BackoffOptions } from './backoff.ts';
import type { ContinuumError } from './errors.ts';
import type { AppendInput } from './rebase.ts';
import type { Clock, ConversationEvent, Turn } from './types.ts';

/** The part of the WebSocket API the SDK uses: the browser's `WebSocket` and the `ws` package both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** A WebSocket constructor: `globalThis.WebSocket` in browsers, `WebSocket` from `ws` in Node 20. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Timers for backoff and re-authentication; inject controllable ones in tests. */
export interface SyncTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * An event that is not stored (presence, typing, context, closed): it has no
 * id and is never replayed. A `presence` event's `data` is a {@link SyncPresence}.
 */
export interface EphemeralEvent {
  id: null;
  event: 'presence' | 'typing' | 'context' | 'closed';
  data: unknown;
}

/** What a sync connection delivers. */
export type SyncEvent = ConversationEvent | EphemeralEvent;

/** Where a sync connection stands. */
export type SyncState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The server's `ready` frame. */
export interface SyncReady {
  conversationId: string;
  /** The conversation's turn when the connection was (re)authenticated. */
  turn: number;
  [field: string]: unknown;
}

/** Another connection of the conversation: who (the subject of its token) and which socket. */
export interface SyncPresentMember {
  subject: string;
  /** That socket's id (its own `ready` frame's `connection`): one subject may hold several at once. */
  connection: string;
}

/** The `data` of a `presence` event: a connection of the conversation joined or left. Never this connection. */
export interface SyncPresence extends SyncPresentMember {
  status: 'joined' | 'left';
}

/** The server's `subscribed` frame. */
export interface SyncSubscribed {
  /** The event id the replay starts after; `null`: from the oldest event kept. */
  after: string | null;
  /** Who else is connected to the conversation now, on any node (this connection left out). */
  present: SyncPresentMember[];
  [field: string]: unknown;
}

/** The answer to a sync append. */
export interface SyncAck {
  /** The stored turn. */
  turn: Turn;
  /** The conversation's turn after the append. */
  currentTurn: number;
  /** True when the idempotency key was seen before: nothing was written twice. */
  replayed: boolean;
  idempotencyKey: string;
  /** Rebases past conflicts (`onConflict: 'rebase'`). */
  rebases: number;
}

/** An append over sync: the HTTP append's fields (no streaming: the reply arrives as events). */
export type SyncAppendInput = Omit<AppendInput, 'signal'>;

/** Options of a sync connection. */
export interface SyncOptions {
  /** Replay every event after this id first (e.g. the last id of an earlier session). */
  after?: string;
  /** Default `globalThis.WebSocket`; on Node 20 pass `WebSocket` from `ws`. */
  WebSocket?: WebSocketConstructor;
  /** Closes the connection when aborted. */
  signal?: AbortSignal;
  /** Reconnect pacing (default from 250 ms, doubling, up to 10 s). */
  backoff?: BackoffOptions;
  /** Reconnect attempts in a row without reaching `ready` before giving up (default: never give up). */
  maxReconnects?: number;
  /** Default the global timers. */
  timers?: SyncTimers;
  /** Default the client's clock. */
  clock?: Clock;
  /** Called for every event (also delivered to the async iterator). */
  onEvent?: (event: SyncEvent) => void;
  /** Called on every state change. */
  onStateChange?: (state: SyncState) => void;
  /** Called after each `ready` (connect, reconnect, re-authentication). */
  onReady?: (ready: SyncReady) => void;
  /**
   * Called after each `subscribed` (connect and every reconnect) with who
   * else is connected now: replace what you knew with `present`, then apply
   * the `presence` events that follow (joined, left).
   */
  onSubscribed?: (subscribed: SyncSubscribed) => void;
  /** Called for an `error` frame that answers no append of this connection. */
  onError?: (error: ContinuumError) => void;
  /** Called when the server no longer keeps the events before `oldestId` (read older turns over HTTP). */
  onTruncated?: (oldestId: string) => void;
}
