import type { Principal } from '../auth/principal.ts';
import type { ConversationId } from '../core/types.ts';
import { AppError } from '../errors/index.ts';
import type { EarlyReply } from '../replies/reply-service.ts';
import { ackFrame } from './frames.ts';
import type { ClientFrame } from './protocol.ts';
import type { SyncSessionDeps } from './session-deps.ts';

type AppendFrame = Extract<ClientFrame, { type: 'append' }>;

/**
 * An `append` frame, with the rules of `POST …/turns`: the turn engine
 * checks access, `expectedTurn` and the idempotency key. Resolves with the
 * `ack` frame to send; with `respond`, the model's reply then streams into
 * the event log (deltas, the stored reply, `done` or `error`), where every
 * subscriber sees it. Rejects with the engine's `AppError` (`turn_conflict`
 * carrying `currentTurn` and `missed`).
 */
export async function appendFromFrame(
  deps: Pick<SyncSessionDeps, 'conversations' | 'replies' | 'tokens' | 'metrics'>,
  principal: Principal,
  conversationId: ConversationId,
  frame: AppendFrame,
): Promise<string> {
  let early: EarlyReply | undefined;
  try {
    // A revoked family is refused on every append, as the HTTP auth hook refuses each request.
    await deps.tokens.assertFamilyActive(principal);
    // The model call overlaps the append (as on `POST …/turns`); used only for the turn stored after expectedTurn.
    early = frame.respond
      ? await deps.replies.begin(principal, conversationId, {
          content: frame.content,
          expectedTurn: frame.expectedTurn,
          priority: frame.priority,
        })
      : undefined;
    const result = await deps.conversations.append(principal, conversationId, {
      role: frame.role,
      content: frame.content,
      expectedTurn: frame.expectedTurn,
      ...(frame.idempotencyKey === undefined ? {} : { idempotencyKey: frame.idempotencyKey }),
    });
    deps.metrics?.turns.inc({ outcome: result.replayed ? 'replayed' : 'appended' });
    if (frame.respond && !result.replayed) {
      // A failure is recorded in the event log as `event: error`, which subscribers receive.
      deps.replies
        .respond(principal, conversationId, result.turn, {
          priority: frame.priority,
          ...(early === undefined ? {} : { early }),
        })
        .catch(() => undefined);
    } else early?.cancel();
    return ackFrame({
      turn: result.turn,
      currentTurn: result.currentTurn,
      replayed: result.replayed,
      ...(frame.ref === undefined ? {} : { ref: frame.ref }),
    });
  } catch (error) {
    early?.cancel();
    const conflict = error instanceof AppError && error.code === 'turn_conflict';
    deps.metrics?.turns.inc({ outcome: conflict ? 'conflict' : 'rejected' });
    throw error;
  }
}
