import { createHmac, randomBytes } from 'node:crypto';
import { asConversationId, type ConversationId, type TenantId } from '../core/types.ts';

/** The name of the server secret conversation ids are derived from; every node (and every import) reads the same one. */
export const SESSION_ID_SECRET = 'session-id-secret';

/** A new value for that secret, made once per deployment by whichever node or command needs it first. */
export function newSessionIdSecret(): string {
  return randomBytes(32).toString('base64url');
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower case, no padding. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

export interface SessionIdInput {
  tenantId: TenantId;
  subject: string;
  /** Conversation start, ms since the epoch. */
  startedAtMs: number;
  clientKey: string;
}

/**
 * The one function that makes a conversation (session) id (ADR-002):
 * `cnv_` + base32(HMAC-SHA256(secret, tenant ‖ subject ‖ start-ms ‖ client-key)).
 * Each part is length-prefixed so no two different inputs share an encoding.
 * The same inputs give the same id on every node; without the secret the id
 * cannot be guessed.
 */
export function conversationId(secret: string, input: SessionIdInput): ConversationId {
  if (secret.length < 32) throw new TypeError('conversationId: the secret must be at least 32 characters');
  if (!Number.isSafeInteger(input.startedAtMs)) throw new TypeError('conversationId: startedAtMs must be an integer');
  const mac = createHmac('sha256', secret);
  for (const part of [input.tenantId, input.subject, String(input.startedAtMs), input.clientKey]) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    mac.update(length).update(bytes);
  }
  return asConversationId(`cnv_${base32(mac.digest().subarray(0, 20))}`);
}

/** A client key for a client that gave none: each such create starts a new conversation. */
export function randomClientKey(): string {
  return `srv_${randomBytes(16).toString('base64url')}`;
}
