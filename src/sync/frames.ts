import type { TurnView } from '../conversations/views.ts';
import type { AppError } from '../errors/index.ts';
import type { StoredEvent } from '../streaming/replay-store.ts';
import { type EphemeralEvent, SYNC_PROTOCOL_VERSION } from './protocol.ts';

/**
 * Server frames of the sync protocol, encoded as JSON text. Each builder
 * returns the frame's text, ready to send.
 */

/** Someone watching the conversation: a subject on one connection. */
export interface PresentMember {
  subject: string;
  /** An opaque id of the connection (one subject may watch from several devices). */
  connection: string;
}

/** Data of an ephemeral `presence` event. */
export interface PresenceData extends PresentMember {
  status: 'joined' | 'left';
}

export interface ReadyFrame {
  conversationId: string;
  /** The conversation's current turn number. */
  turn: number;
  status: 'open' | 'closed';
  subject: string;
  /** When the socket's access token expires (ISO 8601): re-authenticate before then. */
  expiresAt: string;
  /** This connection's id, as others see it in presence and typing events. */
  connection: string;
}

/** `{ "type": "ready", ... }` after a good `auth` (and after each good re-authentication). */
export function readyFrame(ready: ReadyFrame): string {
  return JSON.stringify({ type: 'ready', protocol: SYNC_PROTOCOL_VERSION, ...ready });
}

/** `{ "type": "subscribed" }`: replay after `after` (from the oldest kept event when null) starts now. */
export function subscribedFrame(after: string | null, present: readonly PresentMember[]): string {
  return JSON.stringify({ type: 'subscribed', after, present });
}

/**
 * A stored event of the conversation's event log (the same events as
 * `GET …/events`). Its `data` is JSON text as stored and is embedded as is.
 */
export function eventFrame(event: StoredEvent): string {
  return `{"type":"event","id":${JSON.stringify(event.id)},"event":${JSON.stringify(event.event)},"data":${event.data}}`;
}

const encoded = new WeakMap<StoredEvent, Buffer>();

/**
 * {@link eventFrame} as UTF-8 bytes, encoded once per event: every
 * subscriber of a conversation is handed the same event object, so a frame
 * fanned out to many sockets is built once.
 */
export function eventFrameBytes(event: StoredEvent): Buffer {
  let bytes = encoded.get(event);
  if (bytes === undefined) {
    bytes = Buffer.from(eventFrame(event));
    encoded.set(event, bytes);
  }
  return bytes;
}

/** An event that is not stored (presence, typing, context, closed): `id` is null, it is never replayed. */
export function ephemeralFrame(event: EphemeralEvent, data: unknown): string {
  return JSON.stringify({ type: 'event', id: null, event, data });
}

/** Events before `oldestId` are no longer kept: the replay starts there (read older turns over HTTP). */
export function truncatedFrame(oldestId: string): string {
  return JSON.stringify({ type: 'truncated', oldestId });
}

export interface AckFrame {
  turn: TurnView;
  /** The conversation's turn number after the append. */
  currentTurn: number;
  /** True when the idempotency key was seen before: nothing was written twice. */
  replayed: boolean;
  ref?: string;
}

/** `{ "type": "ack", "turn" }` for an append. */
export function ackFrame(ack: AckFrame): string {
  return JSON.stringify({ type: 'ack', ...ack });
}

/** `{ "type": "error", "code", "detail", ... }`: a refused frame (the socket stays open unless a close follows). */
export function errorFrame(error: AppError, ref?: string): string {
  return JSON.stringify({
    ...error.extras,
    type: 'error',
    code: error.code,
    status: error.status,
    title: error.title,
    detail: error.message,
    ...(ref === undefined ? {} : { ref }),
  });
}
