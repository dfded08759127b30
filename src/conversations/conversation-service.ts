import type { AuditTrail } from '../audit/audit-trail.ts';
import { conversationEvent, subjectActor } from '../audit/events.ts';
import type { Principal } from '../auth/principal.ts';
import type { Clock } from '../core/clock.ts';
import type { Role, TenantId } from '../core/types.ts';
import type { TenantCipher } from '../crypto/data-keys.ts';
import { AppError } from '../errors/index.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { AppendOutcome, ConversationRecord, Store } from '../store/port.ts';
import type { EventBus } from '../sync/event-bus.ts';
import { appendAudit, requestHash } from './append-audit.ts';
import { ChainVerifier } from './chain-verifier.ts';
import { ConversationAccess } from './conversation-access.ts';
import { ConversationFields } from './conversation-views.ts';
import type { ParticipantAccess } from './participant-access.ts';
import { conversationId, randomClientKey } from './session-id.ts';
import type { SessionRegistry } from './session-pool.ts';
import { genesisHash, turnHash } from './turn-hash.ts';
import { VerifiedTurnReader } from './turn-reader.ts';
import type { ConversationView, TurnView } from './views.ts';

export interface ConversationServiceOptions {
  store: Store;
  clock: Clock;
  bus: EventBus;
  cipher: TenantCipher;
  sessions: SessionRegistry;
  audit: AuditTrail;
  /** The server-wide secret of the session-ID function (ADR-002). */
  sessionIdSecret: string;
  metrics?: Metrics;
  /** Told of every appended turn (the working context takes it in); failures there never fail the append. */
  onAppended?: (conversation: ConversationRecord, turn: TurnView) => Promise<string | undefined>;
  /** Most missed turns a 409 carries. */
  missedLimit?: number;
  /** Subjects other than the owner who may read and append (collaborative conversations). */
  participants?: ParticipantAccess;
}

export interface CreateConversationInput {
  title?: string;
  metadata?: Record<string, unknown>;
  clientKey?: string;
  startedAt?: string;
}

export interface AppendTurnInput {
  role: Role;
  content: string;
  expectedTurn: number;
  idempotencyKey?: string;
}

/**
 * The turn engine: conversations and strictly ordered turns (ADR-002,
 * ADR-003). Owns access rules (a subject sees its own conversations and those
 * it takes part in, an admin token its whole tenant), the session pool, sealing, chain checks and
 * the audit events of every read and write (ADR-007). Access checks live in
 * {@link ConversationAccess}, verified turn reads in {@link VerifiedTurnReader}.
 */
export class ConversationService {
  readonly #o: ConversationServiceOptions;
  readonly #chains: ChainVerifier;
  readonly #fields: ConversationFields;
  readonly #turns: VerifiedTurnReader;
  readonly #access: ConversationAccess;

  constructor(options: ConversationServiceOptions) {
    if (options.sessionIdSecret.length < 32) throw new TypeError('ConversationService: sessionIdSecret is too short');
    const { store, cipher, sessions, audit, metrics, participants } = options;
    const chains = new ChainVerifier({ store, cipher });
    this.#o = options;
    this.#chains = chains;
    this.#fields = new ConversationFields(cipher);
    this.#turns = new VerifiedTurnReader({ store, chains });
    this.#access = new ConversationAccess({ store, cipher, sessions, audit, chains, metrics, participants });
  }

  async create(
    principal: Principal,
    input: CreateConversationInput,
  ): Promise<{ created: boolean; conversation: ConversationView }> {
    const { store, clock, cipher, sessions, audit } = this.#o;
    const tenantId = principal.tenantId;
    const now = clock.now();
    const startedAtMs = input.startedAt === undefined ? now : Date.parse(input.startedAt);
    if (!Number.isFinite(startedAtMs)) throw new AppError('invalid_request', 'startedAt is not an ISO 8601 date-time');
    const clientKey = input.clientKey ?? randomClientKey();
    const id = conversationId(this.#o.sessionIdSecret, {
      tenantId,
      subject: principal.subject,
      startedAtMs,
      clientKey,
    });
    await sessions.touch(tenantId, id);
    await cipher.ensureLoaded(tenantId);
    const actor = subjectActor(principal);
    const { created, conversation } = await store.createConversation(
      tenantId,
      {
        id,
        subject: principal.subject,
        title: input.title === undefined ? null : this.#fields.seal(tenantId, id, 'title', input.title),
        metadata:
          input.metadata === undefined
            ? null
            : { sealed: this.#fields.seal(tenantId, id, 'metadata', JSON.stringify(input.metadata)) },
        clientKey,
        startedAt: new Date(startedAtMs).toISOString(),
        createdAt: new Date(now).toISOString(),
        genesisHash: genesisHash(id),
      },
      audit.batch(tenantId, (result: { created: boolean; conversation: ConversationRecord }) => {
        const own = result.conversation.tenantId === tenantId && result.conversation.subject === principal.subject;
        if (result.created) return [conversationEvent('conversation.create', actor, id, 'success')];
        return [conversationEvent('conversation.read', actor, id, own ? 'success' : 'denied')];
      }),
    );
    if (!created && (conversation.tenantId !== tenantId || conversation.subject !== principal.subject)) {
      throw new AppError(
        'conversation_conflict',
        'A conversation with this ID belongs to another owner; use another clientKey',
      );
    }
    if (created) {
      await this.#o.bus.publish({
        type: 'conversation.created',
        tenantId,
        conversationId: id,
        at: conversation.createdAt,
      });
    }
    return { created, conversation: this.#fields.view(conversation) };
  }

  async get(principal: Principal, id: string): Promise<ConversationView> {
    const conversation = await this.open(principal, id, 'conversation.read');
    await this.#o.audit.record(principal.tenantId, [
      conversationEvent('conversation.read', subjectActor(principal), conversation.id, 'success'),
    ]);
    return this.#fields.view(conversation);
  }

  async list(principal: Principal, query: { limit: number; cursor?: string }) {
    const page = await this.#o.store.listConversations(principal.tenantId, {
      limit: query.limit,
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      ...(principal.scope === 'admin' ? {} : { subject: principal.subject }),
    });
    await this.#o.cipher.ensureLoaded(principal.tenantId);
    await this.#o.audit.record(principal.tenantId, [
      {
        action: 'conversation.list',
        actor: subjectActor(principal),
        resource: { type: 'conversation' },
        outcome: 'success',
        detail: { count: page.items.length },
      },
    ]);
    return { items: page.items.map((c) => this.#fields.view(c)), nextCursor: page.nextCursor };
  }

  async close(principal: Principal, id: string): Promise<ConversationView> {
    const conversation = await this.#access.load(principal, id, 'conversation.close');
    const actor = subjectActor(principal);
    const closed = await this.#o.store.closeConversation(
      principal.tenantId,
      conversation.id,
      this.#iso(),
      this.#o.audit.batch(principal.tenantId, () => [
        conversationEvent('conversation.close', actor, conversation.id, 'success', {
          alreadyClosed: conversation.status === 'closed',
        }),
      ]),
    );
    if (!closed) throw new AppError('not_found', 'No such conversation');
    await this.#o.sessions.release(principal.tenantId, conversation.id);
    if (conversation.status === 'open') {
      await this.#o.bus.publish({
        type: 'conversation.closed',
        tenantId: principal.tenantId,
        conversationId: conversation.id,
        turn: closed.turn,
        at: closed.closedAt ?? this.#iso(),
      });
    }
    return this.#fields.view(closed);
  }

  /**
   * Append one turn after `expectedTurn`. Returns `replayed: true` when the
   * idempotency key was seen before (nothing is written twice).
   */
  async append(
    principal: Principal,
    id: string,
    input: AppendTurnInput,
  ): Promise<{ replayed: boolean; turn: TurnView; currentTurn: number; eventId?: string }> {
    // Every transport arrives here. A lone surrogate would be stored and acknowledged, then fail its own
    // hash on every later read (the text is hashed as UTF-8): refuse it before anything is written.
    if (!input.content.isWellFormed()) {
      throw new AppError('invalid_request', 'The turn content is not well-formed Unicode text (a lone surrogate)');
    }
    const { store, cipher } = this.#o;
    const tenantId = principal.tenantId;
    const conversation = await this.open(principal, id, 'turn.append');
    const createdAt = this.#iso();
    const actor = subjectActor(principal);
    const outcome = await store.appendTurn(
      tenantId,
      {
        conversationId: conversation.id,
        expectedTurn: input.expectedTurn,
        missedLimit: this.#o.missedLimit ?? 100,
        ...(input.idempotencyKey === undefined
          ? {}
          : { idempotency: { key: input.idempotencyKey, requestHash: requestHash(input), createdAt } }),
        build: (number, prevHash) => ({
          conversationId: conversation.id,
          number,
          role: input.role,
          content: cipher.sealSync(
            { tenantId, conversationId: conversation.id, field: 'turn', turn: number },
            input.content,
          ),
          createdAt,
          prevHash,
          hash: turnHash(prevHash, {
            conversationId: conversation.id,
            number,
            role: input.role,
            content: input.content,
            createdAt,
          }),
        }),
      },
      this.#o.audit.batch(tenantId, (result: AppendOutcome) => appendAudit(result, actor, conversation.id)),
    );
    switch (outcome.kind) {
      case 'appended': {
        const { turn } = outcome;
        this.#chains.remember(conversation.id, turn.number, turn.hash);
        await this.#o.bus.publish({
          type: 'turn.appended',
          tenantId,
          conversationId: conversation.id,
          turn: turn.number,
          role: turn.role,
          hash: turn.hash,
          at: turn.createdAt,
        });
        const view: TurnView = {
          number: turn.number,
          role: turn.role,
          content: input.content,
          createdAt,
          hash: turn.hash,
        };
        const eventId = await this.#o.onAppended?.(outcome.conversation, view);
        return {
          ...(eventId === undefined ? {} : { eventId }),
          replayed: false,
          turn: view,
          currentTurn: outcome.conversation.turn,
        };
      }
      case 'replayed': {
        const [turn] = await this.readTurns(tenantId, conversation, outcome.turnNumber - 1, 1);
        if (!turn) throw new AppError('state_corrupt', `Turn ${outcome.turnNumber} of an idempotent append is missing`);
        return { replayed: true, turn, currentTurn: outcome.conversation.turn };
      }
      case 'conflict': {
        const after = input.expectedTurn;
        const missed =
          outcome.missed.length === 0 ? [] : await this.readTurns(tenantId, conversation, after, outcome.missed.length);
        throw new AppError('turn_conflict', `The conversation is at turn ${outcome.currentTurn}, not ${after}`, {
          extras: {
            currentTurn: outcome.currentTurn,
            missed,
            ...(outcome.currentTurn - Math.max(0, after) > missed.length ? { missedTruncated: true } : {}),
          },
        });
      }
      case 'idempotency_mismatch':
        throw new AppError('idempotency_key_reused', 'This Idempotency-Key was already used for a different request');
      case 'closed':
        throw new AppError('conversation_closed', 'The conversation is closed and read-only');
      case 'not_found':
        throw new AppError('not_found', 'No such conversation');
    }
  }

  /**
   * Append at the current end of the conversation, retrying past concurrent
   * appends (a model reply, a profile-correction note); returns the turn.
   */
  async appendAtEnd(principal: Principal, id: string, role: Role, content: string): Promise<TurnView> {
    let expectedTurn = (await this.open(principal, id, 'turn.append')).turn;
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.append(principal, id, { role, content, expectedTurn })).turn;
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'turn_conflict' || attempt === 4) throw error;
        expectedTurn = error.extras['currentTurn'] as number;
      }
    }
  }

  async listTurns(principal: Principal, id: string, after: number, limit: number): Promise<TurnView[]> {
    const conversation = await this.open(principal, id, 'turn.read');
    const turns = await this.readTurns(principal.tenantId, conversation, after, limit);
    await this.#o.audit.record(principal.tenantId, [
      conversationEvent('turn.read', subjectActor(principal), conversation.id, 'success', {
        after,
        count: turns.length,
      }),
    ]);
    return turns;
  }

  /** Verified turns after `after` (no audit event); see {@link VerifiedTurnReader.readTurns}. */
  readTurns(
    tenantId: TenantId,
    c: ConversationRecord,
    after: number,
    limit: number,
    options: { keep?: boolean } = {},
  ): Promise<TurnView[]> {
    return this.#turns.readTurns(tenantId, c, after, limit, options);
  }

  /** Verified turns by number, in one store call (no audit event); see {@link VerifiedTurnReader.readTurnsAt}. */
  readTurnsAt(tenantId: TenantId, c: ConversationRecord, numbers: readonly number[]): Promise<TurnView[]> {
    return this.#turns.readTurnsAt(tenantId, c, numbers);
  }

  /**
   * Load, claim a session and verify: what every request on a conversation's
   * state pays (timed as state load). A refused access is audited as `action`.
   */
  open(principal: Principal, id: string, action: string): Promise<ConversationRecord> {
    return this.#access.open(principal, id, action);
  }

  #iso(): string {
    return new Date(this.#o.clock.now()).toISOString();
  }
}
