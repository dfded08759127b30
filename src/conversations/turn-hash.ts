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

/** A turn as a client reads it back: the hashed fields and the hash stored with it. */
export interface ChainedTurn {
  number: number;
  role: string;
  content: string;
  createdAt: string;
  hash: string;
}

/**
 * The first turn of `turns` (a whole conversation read back, oldest first) that is out of place or whose hash
 * does not follow from its predecessor (ADR-003), recomputed from the conversation's genesis hash; null when
 * the chain holds. For checks made from outside the server: the doctor, the tests, the load harness.
 */
export function firstBrokenTurn(conversationId: string, turns: readonly ChainedTurn[]): number | null {
  let prevHash = genesisHash(conversationId as ConversationId);
  for (const [index, turn] of turns.entries()) {
    if (turn.number !== index + 1) return index + 1;
    const expected = turnHash(prevHash, {
      conversationId: conversationId as ConversationId,
      number: turn.number,
      role: turn.role as Role,
      content: turn.content,
      createdAt: turn.createdAt,
    });
    if (expected !== turn.hash) return turn.number;
    prevHash = turn.hash;
  }
  return null;
}
