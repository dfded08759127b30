import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.ts';
import type { ConversationId, Role } from '../core/types.ts';

/** The fields of a turn its hash covers. */
export interface HashedTurn {
  conversationId: ConversationId;
  number: number;
  role: Role;
  content: string;
  createdAt: string;
}

/** `SHA-256(prevHash ‖ canonical turn)`, hex (ADR-003). */
export function turnHash(prevHash: string, turn: HashedTurn): string {
  return createHash('sha256')
    .update(prevHash)
    .update(
      canonicalJson({
        conversationId: turn.conversationId,
        number: turn.number,
        role: turn.role,
        content: turn.content,
        createdAt: turn.createdAt,
      }),
    )
    .digest('hex');
}

/** The hash turn 1 chains from: bound to the conversation, so chains cannot be spliced. */
export function genesisHash(conversationId: ConversationId): string {
  return createHash('sha256').update(`continuum:genesis:${conversationId}`).digest('hex');
}
