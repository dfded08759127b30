import { createHash } from 'node:crypto';
import type { AuditEventInput } from '../audit/event.ts';
import { conversationEvent } from '../audit/events.ts';
import { canonicalJson } from '../core/canonical-json.ts';
import type { ConversationId, Role } from '../core/types.ts';
import type { AppendOutcome } from '../store/port.ts';

/** What an idempotent retry must repeat exactly for its key to replay. */
export function requestHash(input: { role: Role; content: string; expectedTurn: number }): string {
  return createHash('sha256')
    .update(canonicalJson({ role: input.role, content: input.content, expectedTurn: input.expectedTurn }))
    .digest('hex');
}

/** The audit event of an append, whatever its outcome (a refused append is audited too). */
export function appendAudit(
  outcome: AppendOutcome,
  actor: AuditEventInput['actor'],
  id: ConversationId,
): AuditEventInput[] {
  switch (outcome.kind) {
    case 'appended':
      return [conversationEvent('turn.append', actor, id, 'success', { turn: outcome.turn.number })];
    case 'replayed':
      return [conversationEvent('turn.append', actor, id, 'success', { turn: outcome.turnNumber, replayed: true })];
    case 'conflict':
      return [
        conversationEvent('turn.append', actor, id, 'failure', {
          reason: 'turn_conflict',
          currentTurn: outcome.currentTurn,
        }),
      ];
    case 'idempotency_mismatch':
    case 'closed':
      return [conversationEvent('turn.append', actor, id, 'failure', { reason: outcome.kind })];
    case 'not_found':
      return [];
  }
}
