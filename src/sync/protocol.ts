import { ROLES, type Role } from '../core/types.ts';
import { type EventId, isEventId } from '../streaming/event-id.ts';
import type { StreamPriority } from '../streaming/scheduler.ts';

/**
 * The sync protocol of `GET /v1/conversations/{id}/sync` (WebSocket, JSON
 * text frames), as plain data: message types, the version, validation of
 * client frames and the close codes. No socket code lives here; the route
 * binds it to `ws` sockets.
 */

/** Version of the frame formats below; sent in `ready`. */
export const SYNC_PROTOCOL_VERSION = 1;

/** WebSocket subprotocol a client may offer (`Sec-WebSocket-Protocol`); the server selects it when offered. */
export const SYNC_SUBPROTOCOL = 'continuum.sync.v1';

/** The first frame must be `auth`, within this long after the connection opens. */
export const AUTH_TIMEOUT_MS = 10_000;

/** Longest access token accepted in an `auth` frame. */
export const MAX_TOKEN_LENGTH = 4096;

/** Longest `ref` (a client's correlation id, echoed in `ack` and `error`). */
export const MAX_REF_LENGTH = 64;

/** Longest idempotency key, as over HTTP. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** Frames of one connection waiting to be handled; more close the connection with 1008. */
export const MAX_PENDING_FRAMES = 64;

/** A connection's typing indicators are forwarded at most this often; more are dropped. */
export const TYPING_INTERVAL_MS = 1_000;

/**
 * Close codes and what a client does at each: 4001 refresh the token,
 * reconnect and resubscribe with `after`; 4004 stop (no such conversation, or
 * no access to it); 4008 reconnect and resubscribe with `after` (the client
 * read too slowly); 1012 reconnect (to any node) and resubscribe with
 * `after`; 1009 send smaller frames.
 */
export const SYNC_CLOSE = {
  /** The client or the server ended the session normally. */
  normal: 1000,
  /** The client sent frames faster than they could be handled, or sync is turned off for the tenant. */
  policy: 1008,
  /** A frame larger than the size limit. */
  tooBig: 1009,
  /** The server failed unexpectedly (e.g. stored state failed its integrity check). */
  internal: 1011,
  /** The server is shutting down or restarting. */
  restarting: 1012,
  /** The store is unavailable or the tenant's sessions are full: retry later. */
  tryAgainLater: 1013,
  /** Token missing, invalid or expired (no `auth` in time, or no re-authentication before expiry). */
  unauthorized: 4001,
  /** Conversation not found, or this subject is not (or no longer) a participant. */
  notFound: 4004,
  /** The send buffer was full: the client did not read fast enough. */
  tooSlow: 4008,
} as const;

export type SyncCloseCode = (typeof SYNC_CLOSE)[keyof typeof SYNC_CLOSE];

/** Event names a server `event` frame carries. Stored events have an id; the others have `id: null`. */
export const STORED_EVENTS = ['turn', 'delta', 'done', 'error', 'escalation'] as const;
export const EPHEMERAL_EVENTS = ['presence', 'typing', 'context', 'closed'] as const;
export type EphemeralEvent = (typeof EPHEMERAL_EVENTS)[number];

const PRIORITIES: readonly StreamPriority[] = ['high', 'normal', 'low'];

/** A client frame, validated. `ref` is the client's own correlation id, echoed in the answer. */
export type ClientFrame =
  | { type: 'auth'; token: string; ref?: string }
  | { type: 'subscribe'; after: EventId | null; ref?: string }
  | {
      type: 'append';
      role: Role;
      content: string;
      expectedTurn: number;
      respond: boolean;
      priority: StreamPriority;
      idempotencyKey?: string;
      ref?: string;
    }
  | { type: 'typing'; ref?: string };

/** What {@link parseClientFrame} found wrong: answer with an `error` frame, or close with `close`. */
export interface FrameProblem {
  detail: string;
  /** Set when the frame must close the socket (1009 for an oversized frame). */
  close?: SyncCloseCode;
  /** The frame's `ref`, when it had a readable one. */
  ref?: string;
}

export type ParsedFrame = { ok: true; frame: ClientFrame } | { ok: false; problem: FrameProblem };

export interface FrameLimits {
  /** Largest frame in bytes (the HTTP body limit). */
  maxFrameBytes: number;
  /** Longest turn content in characters (as over HTTP). */
  maxTurnChars: number;
}

const FIELDS: Record<ClientFrame['type'], readonly string[]> = {
  auth: ['type', 'ref', 'token'],
  subscribe: ['type', 'ref', 'after'],
  append: ['type', 'ref', 'role', 'content', 'expectedTurn', 'respond', 'priority', 'idempotencyKey'],
  typing: ['type', 'ref'],
};

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

class Invalid extends Error {}
const invalid = (detail: string): never => {
  throw new Invalid(detail);
};

/** Characters as JSON Schema's `maxLength` counts them (code points). */
function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function printable(value: unknown, name: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max || hasControl(value)) {
    return invalid(`${name} must be a string of 1 to ${max} printable characters`);
  }
  return value;
}

function readAppend(o: Record<string, unknown>, limits: FrameLimits): ClientFrame {
  const role = o['role'];
  if (typeof role !== 'string' || !ROLES.includes(role as Role)) invalid(`role must be one of ${ROLES.join(', ')}`);
  const content = o['content'];
  if (typeof content !== 'string' || content.length === 0) invalid('content must be a non-empty string');
  const text = content as string;
  if (text.length > limits.maxTurnChars && codePoints(text) > limits.maxTurnChars) {
    invalid(`content is longer than ${limits.maxTurnChars} characters`);
  }
  const expectedTurn = o['expectedTurn'];
  if (!Number.isSafeInteger(expectedTurn) || (expectedTurn as number) < 0) {
    invalid('expectedTurn must be the turn number you expect to follow (an integer >= 0)');
  }
  const respond = o['respond'] ?? false;
  if (typeof respond !== 'boolean') invalid('respond must be true or false');
  const priority = o['priority'] ?? 'normal';
  if (!PRIORITIES.includes(priority as StreamPriority)) invalid(`priority must be one of ${PRIORITIES.join(', ')}`);
  const frame: ClientFrame = {
    type: 'append',
    role: role as Role,
    content: text,
    expectedTurn: expectedTurn as number,
    respond: respond as boolean,
    priority: priority as StreamPriority,
  };
  if (o['idempotencyKey'] !== undefined) {
    frame.idempotencyKey = printable(o['idempotencyKey'], 'idempotencyKey', MAX_IDEMPOTENCY_KEY_LENGTH);
  }
  return frame;
}

function readFrame(o: Record<string, unknown>, limits: FrameLimits): ClientFrame {
  const type = o['type'];
  if (typeof type !== 'string' || !(type in FIELDS)) {
    return invalid(`type must be one of ${Object.keys(FIELDS).join(', ')}`);
  }
  const allowed = FIELDS[type as ClientFrame['type']];
  const unknown = Object.keys(o).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) invalid(`unknown field${unknown.length > 1 ? 's' : ''} in ${type}: ${unknown.join(', ')}`);
  switch (type as ClientFrame['type']) {
    case 'auth':
      return { type: 'auth', token: printable(o['token'], 'token', MAX_TOKEN_LENGTH) };
    case 'subscribe': {
      const after = o['after'] ?? null;
      if (after !== null && !isEventId(after)) invalid('after must be an event id this server issued, or null');
      return { type: 'subscribe', after: after as EventId | null };
    }
    case 'append':
      return readAppend(o, limits);
    case 'typing':
      return { type: 'typing' };
  }
}

/**
 * Validate one client frame. A binary frame, non-JSON text, an unknown type,
 * a missing or malformed field and an unknown field are problems answered
 * with an `error` frame; a frame over `maxFrameBytes` closes with 1009.
 *
 * @example
 * const parsed = parseClientFrame('{"type":"subscribe","after":null}', { maxFrameBytes: 262144, maxTurnChars: 32000 });
 * if (parsed.ok) handle(parsed.frame);
 */
export function parseClientFrame(data: string | Uint8Array, limits: FrameLimits): ParsedFrame {
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  if (size > limits.maxFrameBytes) {
    return {
      ok: false,
      problem: { detail: `frames are limited to ${limits.maxFrameBytes} bytes`, close: SYNC_CLOSE.tooBig },
    };
  }
  if (typeof data !== 'string') {
    return { ok: false, problem: { detail: 'binary frames are not part of the protocol: send JSON text frames' } };
  }
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { ok: false, problem: { detail: 'a frame must be one JSON object' } };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: { detail: 'a frame must be one JSON object' } };
  }
  const o = value as Record<string, unknown>;
  let ref: string | undefined;
  try {
    if (o['ref'] !== undefined) ref = printable(o['ref'], 'ref', MAX_REF_LENGTH);
    const frame = readFrame(o, limits);
    if (ref !== undefined) frame.ref = ref;
    return { ok: true, frame };
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    return { ok: false, problem: { detail: error.message, ...(ref === undefined ? {} : { ref }) } };
  }
}
