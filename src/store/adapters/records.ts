import { type AuditEvent, GENESIS_HASH } from '../../audit/event.ts';
import type { ConversationId, TenantId } from '../../core/types.ts';
import { AppError } from '../../errors/index.ts';
import type { AuditBatch, AuditHead, ConversationRecord, FlagRecord, ParticipantRecord, TurnRecord } from '../port.ts';

/**
 * What the three adapters share about participant and flag records: argument
 * checks (a malformed record is caller misuse, a `TypeError`, never stored),
 * the order participants are listed in, and how `addParticipant` audits an
 * unknown conversation.
 */

/** Throws a `TypeError` unless `participant` has a subject, an inviter and a time. */
export function checkParticipant(operation: string, participant: ParticipantRecord): void {
  if (typeof participant?.subject !== 'string' || participant.subject === '') {
    throw new TypeError(`${operation}: participant.subject must be a non-empty string`);
  }
  if (typeof participant.addedBy !== 'string' || participant.addedBy === '') {
    throw new TypeError(`${operation}: participant.addedBy must be a non-empty string`);
  }
  if (typeof participant.addedAt !== 'string' || participant.addedAt === '') {
    throw new TypeError(`${operation}: participant.addedAt must be an ISO 8601 time`);
  }
}

/** Throws a `TypeError` unless `flag` is a well-formed flag (named, boolean, tenant ids, percent 0–100). */
export function checkFlag(flag: FlagRecord): void {
  if (typeof flag?.name !== 'string' || flag.name === '') {
    throw new TypeError('putFlag: flag.name must be a non-empty string');
  }
  if (typeof flag.enabled !== 'boolean') throw new TypeError(`putFlag: enabled of ${flag.name} must be true or false`);
  if (!Array.isArray(flag.tenants) || flag.tenants.some((t) => typeof t !== 'string' || t === '')) {
    throw new TypeError(`putFlag: tenants of ${flag.name} must be an array of tenant ids`);
  }
  if (typeof flag.percent !== 'number' || !(flag.percent >= 0 && flag.percent <= 100)) {
    throw new TypeError(`putFlag: percent of ${flag.name} must be a number from 0 to 100`);
  }
  if (typeof flag.updatedAt !== 'string' || flag.updatedAt === '') {
    throw new TypeError(`putFlag: updatedAt of ${flag.name} must be an ISO 8601 time`);
  }
}

/** Participants oldest first: by `addedAt`, then subject (plain text order, no locale). */
export function byAddedAt(a: ParticipantRecord, b: ParticipantRecord): number {
  if (a.addedAt !== b.addedAt) return a.addedAt < b.addedAt ? -1 : 1;
  return a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0;
}

/** What an add decided inside its transaction: `found` is false when the tenant has no such conversation. */
export interface AddResult {
  found: boolean;
  added: boolean;
}

/** The caller's batch over an {@link AddResult}: its events see `added` (false for an unknown conversation). */
export function addAudit(audit: AuditBatch<boolean>): AuditBatch<AddResult> {
  return { at: audit.at, events: (result) => audit.events(result.added) };
}

/** The answer of a committed add: `added`, or `not_found` (after its audit events were written). */
export function addAnswer(conversationId: ConversationId, result: AddResult): boolean {
  if (!result.found) throw new AppError('not_found', `No conversation ${conversationId}`);
  return result.added;
}

/**
 * Throws a `TypeError` unless an imported conversation's turns are exactly 1..turn, chained from its genesis
 * hash to its head: one that disagrees would refuse every later append.
 */
export function checkConversation(tenantId: TenantId, conversation: ConversationRecord, turns: TurnRecord[]): void {
  if (conversation.tenantId !== tenantId) {
    throw new TypeError(`importConversation: ${conversation.id} belongs to ${conversation.tenantId}, not ${tenantId}`);
  }
  if (turns.length !== conversation.turn) {
    throw new TypeError(
      `importConversation: ${conversation.id} is at turn ${conversation.turn} but has ${turns.length}`,
    );
  }
  let prevHash = conversation.genesisHash;
  for (const [index, turn] of turns.entries()) {
    if (turn.conversationId !== conversation.id || turn.number !== index + 1 || turn.prevHash !== prevHash) {
      throw new TypeError(`importConversation: turn ${index + 1} of ${conversation.id} is out of place`);
    }
    prevHash = turn.hash;
  }
  if (prevHash !== conversation.headHash) {
    throw new TypeError(`importConversation: the head hash of ${conversation.id} is not its last turn's hash`);
  }
}

/** Where `events` fail to continue the chain after `head`, or null when they do. */
export function firstBreak(head: AuditHead | null, events: AuditEvent[]): string | null {
  let seq = head?.seq ?? 0;
  let hash = head?.hash ?? GENESIS_HASH;
  for (const event of events) {
    if (event.seq !== seq + 1) return `seq ${event.seq} where ${seq + 1} was due`;
    if (event.prevHash !== hash) return `seq ${event.seq} does not link to the hash of seq ${seq}`;
    seq = event.seq;
    hash = event.hash;
  }
  return null;
}
