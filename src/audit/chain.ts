import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.ts';
import {
  AUDIT_OUTCOMES,
  type AuditActor,
  type AuditEvent,
  type AuditEventInput,
  type AuditResource,
  GENESIS_HASH,
  MAX_DETAIL_STRING,
} from './event.ts';

/** The head of a chain: what the next event links to. */
export interface ChainHead {
  seq: number;
  hash: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const ACTOR_KINDS: ReadonlySet<string> = new Set<AuditActor['kind']>(['operator', 'subject', 'system', 'anonymous']);
const RESOURCE_TYPES: ReadonlySet<string> = new Set<AuditResource['type']>([
  'tenant',
  'api_key',
  'token',
  'conversation',
  'turn',
  'context',
  'audit',
  'flag',
  'key',
  'participant',
  'export',
]);
const OUTCOMES: ReadonlySet<string> = new Set(AUDIT_OUTCOMES);

/**
 * Seals `input` as the next event of `tenantId`'s chain after `prev` (`null`
 * for the first event). Pure: the caller stores the result and must append it
 * only if `prev` is still the head (e.g. a unique `(tenantId, seq)` key).
 *
 * Only the documented fields are kept, so what is hashed is exactly what a
 * store persists. Throws `TypeError` for malformed input.
 *
 * @example
 * const head = await store.auditHead(tenantId); // { seq, hash } | null
 * const event = sealEvent(head, tenantId, {
 *   action: 'turn.append',
 *   actor: { kind: 'subject', subject: 'patient-42', tokenId: 'tok_1', ip: '203.0.113.7' },
 *   resource: { type: 'turn', id: 'cnv_abc/7' },
 *   outcome: 'success',
 *   detail: { turn: 7 },
 * }, new Date(clock.now()));
 */
export function sealEvent(prev: ChainHead | null, tenantId: string, input: AuditEventInput, at: Date): AuditEvent {
  if (prev !== null) {
    if (typeof prev !== 'object' || !Number.isSafeInteger(prev.seq) || prev.seq < 1) {
      throw new TypeError('sealEvent: prev.seq must be a positive integer');
    }
    if (typeof prev.hash !== 'string' || !HEX64.test(prev.hash)) {
      throw new TypeError('sealEvent: prev.hash must be 64 lowercase hex characters');
    }
  }
  if (typeof tenantId !== 'string' || tenantId.length === 0) {
    throw new TypeError('sealEvent: tenantId must be a non-empty string');
  }
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
    throw new TypeError('sealEvent: at must be a valid Date');
  }
  checkInput(input);

  const unsealed: Omit<AuditEvent, 'hash'> = {
    tenantId,
    seq: prev === null ? 1 : prev.seq + 1,
    at: at.toISOString(),
    prevHash: prev === null ? GENESIS_HASH : prev.hash,
    ...hashedFields(input),
  };
  return { ...unsealed, hash: hashOf(unsealed) };
}

/**
 * Recomputes an event's hash from its fields (ignoring its `hash`). An event
 * is intact when `eventHash(event) === event.hash`. Throws `TypeError` only
 * when a field has no JSON form (e.g. a bigint from a driver).
 */
export function eventHash(event: AuditEvent): string {
  return hashOf({
    tenantId: event.tenantId,
    seq: event.seq,
    at: event.at,
    prevHash: event.prevHash,
    ...hashedFields(event),
  });
}

/** Lowercase hex SHA-256 of a UTF-8 string. */
export function sha256hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function hashOf(unsealed: Omit<AuditEvent, 'hash'>): string {
  return sha256hex(unsealed.prevHash + canonicalJson(unsealed));
}

// Picks the documented fields only, and treats null and {} like "absent":
// stores read optional columns back as NULL, and those must hash the same.
function hashedFields(input: AuditEventInput): AuditEventInput {
  const a = input.actor;
  const actor: AuditActor = { kind: a.kind };
  if (a.tenantId != null) actor.tenantId = a.tenantId;
  if (a.subject != null) actor.subject = a.subject;
  if (a.tokenId != null) actor.tokenId = a.tokenId;
  if (a.ip != null) actor.ip = a.ip;
  const resource: AuditResource = { type: input.resource.type };
  if (input.resource.id != null) resource.id = input.resource.id;
  const fields: AuditEventInput = { action: input.action, actor, resource, outcome: input.outcome };
  if (input.detail != null && Object.keys(input.detail).length > 0) fields.detail = { ...input.detail };
  return fields;
}

function checkInput(input: AuditEventInput): void {
  if (typeof input !== 'object' || input === null) throw new TypeError('sealEvent: input must be an object');
  if (typeof input.action !== 'string' || !ACTION.test(input.action)) {
    throw new TypeError(`sealEvent: action must look like 'resource.verb', got ${JSON.stringify(input.action)}`);
  }
  const actor = input.actor;
  if (typeof actor !== 'object' || actor === null || !ACTOR_KINDS.has(actor.kind)) {
    throw new TypeError(`sealEvent: actor.kind must be one of ${[...ACTOR_KINDS].join(', ')}`);
  }
  for (const key of ['tenantId', 'subject', 'tokenId', 'ip'] as const) {
    const value = actor[key];
    if (value !== undefined && typeof value !== 'string')
      throw new TypeError(`sealEvent: actor.${key} must be a string`);
  }
  const resource = input.resource;
  if (typeof resource !== 'object' || resource === null || !RESOURCE_TYPES.has(resource.type)) {
    throw new TypeError(`sealEvent: resource.type must be one of ${[...RESOURCE_TYPES].join(', ')}`);
  }
  if (resource.id !== undefined && typeof resource.id !== 'string') {
    throw new TypeError('sealEvent: resource.id must be a string');
  }
  if (!OUTCOMES.has(input.outcome)) {
    throw new TypeError(`sealEvent: outcome must be one of ${AUDIT_OUTCOMES.join(', ')}`);
  }
  if (input.detail === undefined) return;
  if (typeof input.detail !== 'object' || input.detail === null || Array.isArray(input.detail)) {
    throw new TypeError('sealEvent: detail must be a plain object');
  }
  for (const [key, value] of Object.entries(input.detail)) {
    if (typeof value === 'string') {
      if (value.length > MAX_DETAIL_STRING) {
        throw new TypeError(
          `sealEvent: detail.${key} is longer than ${MAX_DETAIL_STRING} characters (no PHI in detail)`,
        );
      }
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new TypeError(`sealEvent: detail.${key} must be a finite number`);
    } else if (typeof value !== 'boolean') {
      throw new TypeError(`sealEvent: detail.${key} must be a string, number or boolean`);
    }
  }
}
