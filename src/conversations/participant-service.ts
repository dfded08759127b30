import type { AuditTrail } from '../audit/audit-trail.ts';
import { conversationEvent, subjectActor } from '../audit/events.ts';
import type { Principal } from '../auth/principal.ts';
import type { Clock } from '../core/clock.ts';
import { AppError } from '../errors/index.ts';
import type { ConversationRecord, ParticipantRecord, Store } from '../store/port.ts';
import type { EventBus } from '../sync/event-bus.ts';
import type { ConversationService } from './conversation-service.ts';
import type { ParticipantAccess } from './participant-access.ts';

export interface ParticipantServiceOptions {
  store: Store;
  clock: Clock;
  audit: AuditTrail;
  bus: EventBus;
  conversations: ConversationService;
  access: ParticipantAccess;
}

/** A participant as the API shows it. */
export type ParticipantView = ParticipantRecord;

/** The people of a conversation: its owner and the participants it was shared with. */
export interface ParticipantList {
  conversationId: string;
  owner: string;
  items: ParticipantView[];
}

/**
 * Collaborative conversations: the owner (or an admin token of the tenant)
 * invites other subjects of the tenant, who then read and append like the
 * owner, in the same strict turn order. Every change is audited in the same
 * write as the change; a participant may leave on its own.
 */
export class ParticipantService {
  readonly #o: ParticipantServiceOptions;

  constructor(options: ParticipantServiceOptions) {
    this.#o = options;
  }

  /** Owner and participants; anyone with access to the conversation may list them. */
  async list(principal: Principal, id: string): Promise<ParticipantList> {
    const conversation = await this.#o.conversations.open(principal, id, 'conversation.read');
    const items = await this.#o.store.listParticipants(principal.tenantId, conversation.id);
    await this.#o.audit.record(principal.tenantId, [
      conversationEvent('conversation.read', subjectActor(principal), conversation.id, 'success', {
        participants: items.length,
      }),
    ]);
    return { conversationId: conversation.id, owner: conversation.subject, items };
  }

  /** Invite `subject`; `added` is false when it already was a participant (nothing changes). */
  async add(
    principal: Principal,
    id: string,
    subject: string,
  ): Promise<{ added: boolean; participant: ParticipantView }> {
    const { store, audit } = this.#o;
    const tenantId = principal.tenantId;
    const conversation = await this.#o.conversations.open(principal, id, 'participant.add');
    await this.#assertManager(principal, conversation, 'participant.add', subject);
    if (subject === conversation.subject) {
      throw new AppError('invalid_request', 'The owner already takes part in the conversation');
    }
    const participant: ParticipantRecord = {
      subject,
      addedBy: conversation.subject === principal.subject ? principal.subject : `admin:${principal.subject}`,
      addedAt: new Date(this.#o.clock.now()).toISOString(),
    };
    const actor = subjectActor(principal);
    const added = await store.addParticipant(
      tenantId,
      conversation.id,
      participant,
      audit.batch(tenantId, (fresh: boolean) => [
        conversationEvent('participant.add', actor, conversation.id, 'success', {
          participant: subject,
          ...(fresh ? {} : { alreadyParticipant: true }),
        }),
      ]),
    );
    if (added) return { added, participant };
    const existing = (await store.listParticipants(tenantId, conversation.id)).find((p) => p.subject === subject);
    return { added, participant: existing ?? participant };
  }

  /** Remove `subject` (the owner or an admin), or leave (a participant removing itself). */
  async remove(principal: Principal, id: string, subject: string): Promise<void> {
    const { store, audit } = this.#o;
    const tenantId = principal.tenantId;
    const conversation = await this.#o.conversations.open(principal, id, 'participant.remove');
    if (principal.subject !== subject || principal.subject === conversation.subject) {
      await this.#assertManager(principal, conversation, 'participant.remove', subject);
    }
    const actor = subjectActor(principal);
    const removed = await store.removeParticipant(
      tenantId,
      conversation.id,
      subject,
      audit.batch(tenantId, (gone: boolean) => [
        conversationEvent('participant.remove', actor, conversation.id, gone ? 'success' : 'failure', {
          participant: subject,
          ...(gone ? {} : { reason: 'not_a_participant' }),
        }),
      ]),
    );
    this.#o.access.forget(tenantId, conversation.id, subject);
    if (!removed) throw new AppError('not_found', 'No such participant');
    await this.#o.bus.publish({
      type: 'participant.removed',
      tenantId,
      conversationId: conversation.id,
      subject,
      at: new Date(this.#o.clock.now()).toISOString(),
    });
  }

  /** Only the owner or an admin token of the tenant invites and removes; others are refused (and audited). */
  async #assertManager(principal: Principal, c: ConversationRecord, action: string, subject: string): Promise<void> {
    if (principal.scope === 'admin' || principal.subject === c.subject) return;
    await this.#o.audit.record(principal.tenantId, [
      conversationEvent(action, subjectActor(principal), c.id, 'denied', { participant: subject }),
    ]);
    throw new AppError('insufficient_scope', 'Only the owner or an admin token of the tenant may change participants');
  }
}
