import type { AuditTrail } from '../audit/audit-trail.ts';
import { conversationEvent, subjectActor } from '../audit/events.ts';
import type { Principal } from '../auth/principal.ts';
import { asConversationId } from '../core/types.ts';
import type { TenantCipher } from '../crypto/data-keys.ts';
import { AppError } from '../errors/index.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ConversationRecord, Store } from '../store/port.ts';
import type { ChainVerifier } from './chain-verifier.ts';
import type { ParticipantAccess } from './participant-access.ts';
import type { SessionRegistry } from './session-pool.ts';

/** What a {@link ConversationAccess} loads, claims, checks and audits with. */
export interface ConversationAccessOptions {
  store: Store;
  cipher: TenantCipher;
  sessions: SessionRegistry;
  audit: AuditTrail;
  /** The turn engine's verifier, shared so a chain proven here is known to its reads and appends. */
  chains: ChainVerifier;
  metrics?: Metrics;
  /** Subjects other than the owner who may read and append (collaborative conversations). */
  participants?: ParticipantAccess;
}

const CONVERSATION_ID = /^cnv_[a-z2-7]{32}$/;

/**
 * The turn engine's access rules (ADR-009): a subject sees its own
 * conversations and those it takes part in, an admin token its whole tenant;
 * anything else answers exactly like a missing conversation, and the attempt
 * is audited.
 */
export class ConversationAccess {
  readonly #o: ConversationAccessOptions;

  constructor(options: ConversationAccessOptions) {
    this.#o = options;
  }

  /**
   * Load, claim a session and verify: what every request on a conversation's
   * state pays (timed as state load). A refused access is audited as `action`.
   */
  async open(principal: Principal, id: string, action: string): Promise<ConversationRecord> {
    const started = performance.now();
    const conversation = await this.load(principal, id, action);
    await this.#o.sessions.touch(principal.tenantId, conversation.id);
    await this.#verified(principal, conversation, action);
    this.#o.metrics?.stateLoad.observe((performance.now() - started) / 1000);
    return conversation;
  }

  /** Load a conversation `principal` may access, without claiming a session or checking its chain. */
  async load(principal: Principal, id: string, action: string): Promise<ConversationRecord> {
    if (!CONVERSATION_ID.test(id)) throw new AppError('not_found', 'No such conversation');
    const conversation = await this.#o.store.getConversation(principal.tenantId, asConversationId(id));
    // Another subject's conversation answers exactly like a missing one (ADR-009), and the attempt is audited.
    if (!conversation || !(await this.#mayAccess(principal, conversation))) {
      await this.#o.audit.record(principal.tenantId, [
        conversationEvent(action, subjectActor(principal), id, 'denied'),
      ]);
      throw new AppError('not_found', 'No such conversation');
    }
    await this.#o.cipher.ensureLoaded(principal.tenantId);
    return conversation;
  }

  /** Check the chain; a failure is audited before it is reported. */
  async #verified(principal: Principal, conversation: ConversationRecord, action: string): Promise<void> {
    try {
      await this.#o.chains.verifyHead(conversation);
    } catch (error) {
      if (error instanceof AppError && error.code === 'state_corrupt') {
        await this.#o.audit.record(principal.tenantId, [
          conversationEvent(action, subjectActor(principal), conversation.id, 'failure', { reason: 'state_corrupt' }),
        ]);
      }
      throw error;
    }
  }

  /** The owner, a participant, or an admin token of the tenant. */
  async #mayAccess(principal: Principal, conversation: ConversationRecord): Promise<boolean> {
    if (principal.scope === 'admin' || conversation.subject === principal.subject) return true;
    return (await this.#o.participants?.allows(principal.tenantId, conversation.id, principal.subject)) === true;
  }
}
