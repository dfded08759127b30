import { createHash } from 'node:crypto';
import type { Principal } from '../auth/principal.ts';
import { canonicalJson } from '../core/canonical-json.ts';
import type { Clock } from '../core/clock.ts';
import { asConversationId, type ConversationId, type Role, type TenantId } from '../core/types.ts';
import type { TenantCipher } from '../crypto/data-keys.ts';
import { AppError } from '../errors/index.ts';
import type { ConversationRecord, Store } from '../store/port.ts';
import type { EventBus } from '../sync/event-bus.ts';
import { ChainVerifier } from './chain-verifier.ts';
import { conversationId, randomClientKey } from './session-id.ts';
import type { SessionPool } from './session-pool.ts';
import { genesisHash, turnHash } from './turn-hash.ts';
import type { ConversationView, TurnView } from './views.ts';

export interface ConversationServiceOptions {
  store: Store;
  clock: Clock;
  bus: EventBus;
  cipher: TenantCipher;
  sessions: SessionPool;
  /** The server-wide secret of the session-ID function (ADR-002). */
  sessionIdSecret: string;
  /** Most missed turns a 409 carries. */
  missedLimit?: number;
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

const CONVERSATION_ID = /^cnv_[a-z2-7]{32}$/;

/**
 * The turn engine: conversations and strictly ordered turns (ADR-002,
 * ADR-003). Owns access rules (a subject sees only its own conversations, an
 * admin token its whole tenant), the session pool, sealing and chain checks.
 */
export class ConversationService {
  readonly #o: ConversationServiceOptions;
  readonly #chains: ChainVerifier;

  constructor(options: ConversationServiceOptions) {
    if (options.sessionIdSecret.length < 32) throw new TypeError('ConversationService: sessionIdSecret is too short');
    this.#o = options;
    this.#chains = new ChainVerifier({ store: options.store, cipher: options.cipher });
  }

  async create(
    principal: Principal,
    input: CreateConversationInput,
  ): Promise<{ created: boolean; conversation: ConversationView }> {
    const { store, clock, cipher, sessions } = this.#o;
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
    sessions.touch(tenantId, id);
    await cipher.ensureLoaded(tenantId);
    const seal = (field: string, value: string) =>
      cipher.sealSync({ tenantId, conversationId: id, field }, value).toString('base64');
    const { created, conversation } = await store.createConversation(tenantId, {
      id,
      subject: principal.subject,
      title: input.title === undefined ? null : seal('title', input.title),
      metadata: input.metadata === undefined ? null : { sealed: seal('metadata', JSON.stringify(input.metadata)) },
      clientKey,
      startedAt: new Date(startedAtMs).toISOString(),
      createdAt: new Date(now).toISOString(),
      genesisHash: genesisHash(id),
    });
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
    return { created, conversation: this.#view(conversation) };
  }

  async get(principal: Principal, id: string): Promise<ConversationView> {
    const conversation = await this.#load(principal, id);
    await this.#chains.verifyHead(conversation);
    return this.#view(conversation);
  }

  async list(principal: Principal, query: { limit: number; cursor?: string }) {
    const page = await this.#o.store.listConversations(principal.tenantId, {
      limit: query.limit,
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      ...(principal.scope === 'admin' ? {} : { subject: principal.subject }),
    });
    await this.#o.cipher.ensureLoaded(principal.tenantId);
    return { items: page.items.map((c) => this.#view(c)), nextCursor: page.nextCursor };
  }

  async close(principal: Principal, id: string): Promise<ConversationView> {
    const conversation = await this.#load(principal, id);
    const closed = await this.#o.store.closeConversation(principal.tenantId, conversation.id, this.#iso());
    if (!closed) throw new AppError('not_found', 'No such conversation');
    this.#o.sessions.release(principal.tenantId, conversation.id);
    if (conversation.status === 'open') {
      await this.#o.bus.publish({
        type: 'conversation.closed',
        tenantId: principal.tenantId,
        conversationId: conversation.id,
        turn: closed.turn,
        at: closed.closedAt ?? this.#iso(),
      });
    }
    return this.#view(closed);
  }

  /**
   * Append one turn after `expectedTurn`. Returns `replayed: true` when the
   * idempotency key was seen before (nothing is written twice).
   */
  async append(
    principal: Principal,
    id: string,
    input: AppendTurnInput,
  ): Promise<{ replayed: boolean; turn: TurnView; conversation: ConversationView }> {
    const { store, cipher } = this.#o;
    const tenantId = principal.tenantId;
    const conversation = await this.#load(principal, id);
    this.#o.sessions.touch(tenantId, conversation.id);
    await this.#chains.verifyHead(conversation);
    const createdAt = this.#iso();
    const outcome = await store.appendTurn(tenantId, {
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
    });
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
        return {
          replayed: false,
          turn: { number: turn.number, role: turn.role, content: input.content, createdAt, hash: turn.hash },
          conversation: this.#view(outcome.conversation),
        };
      }
      case 'replayed': {
        const [turn] = await this.#readTurns(tenantId, conversation.id, outcome.turnNumber - 1, 1);
        if (!turn) throw new AppError('state_corrupt', `Turn ${outcome.turnNumber} of an idempotent append is missing`);
        return { replayed: true, turn, conversation: this.#view(outcome.conversation) };
      }
      case 'conflict': {
        const anchor = input.expectedTurn;
        const missed =
          outcome.missed.length === 0
            ? []
            : await this.#readTurns(tenantId, conversation.id, anchor, outcome.missed.length);
        throw new AppError(
          'turn_conflict',
          `The conversation is at turn ${outcome.currentTurn}, not ${input.expectedTurn}`,
          {
            extras: {
              currentTurn: outcome.currentTurn,
              missed,
              ...(outcome.currentTurn - Math.max(0, anchor) > missed.length ? { missedTruncated: true } : {}),
            },
          },
        );
      }
      case 'idempotency_mismatch':
        throw new AppError('idempotency_key_reused', 'This Idempotency-Key was already used for a different request');
      case 'closed':
        throw new AppError('conversation_closed', 'The conversation is closed and read-only');
      case 'not_found':
        throw new AppError('not_found', 'No such conversation');
    }
  }

  async listTurns(principal: Principal, id: string, after: number, limit: number): Promise<TurnView[]> {
    const conversation = await this.#load(principal, id);
    this.#o.sessions.touch(principal.tenantId, conversation.id);
    await this.#chains.verifyHead(conversation);
    return this.#readTurns(principal.tenantId, conversation.id, after, limit);
  }

  /** Turns after `after`, each checked against its predecessor's hash. */
  async #readTurns(tenantId: TenantId, id: ConversationId, after: number, limit: number): Promise<TurnView[]> {
    await this.#o.cipher.ensureLoaded(tenantId);
    if (after <= 0) {
      const conversation = await this.#o.store.getConversation(tenantId, id);
      if (!conversation) throw new AppError('not_found', 'No such conversation');
      const rows = await this.#o.store.listTurns(tenantId, id, 0, limit);
      return this.#chains.openRange(tenantId, rows, conversation.genesisHash);
    }
    const rows = await this.#o.store.listTurns(tenantId, id, after - 1, limit + 1);
    const [anchor, ...served] = rows;
    if (!anchor || anchor.number !== after) return [];
    return this.#chains.openRange(tenantId, served, anchor.hash);
  }

  async #load(principal: Principal, id: string): Promise<ConversationRecord> {
    if (!CONVERSATION_ID.test(id)) throw new AppError('not_found', 'No such conversation');
    const conversation = await this.#o.store.getConversation(principal.tenantId, asConversationId(id));
    // Another subject's conversation answers exactly like a missing one (ADR-009).
    if (!conversation || (principal.scope !== 'admin' && conversation.subject !== principal.subject)) {
      throw new AppError('not_found', 'No such conversation');
    }
    await this.#o.cipher.ensureLoaded(principal.tenantId);
    return conversation;
  }

  #view(c: ConversationRecord): ConversationView {
    const open = (field: string, sealed: string) =>
      this.#o.cipher.openSync({ tenantId: c.tenantId, conversationId: c.id, field }, Buffer.from(sealed, 'base64'));
    const sealedMetadata = c.metadata?.['sealed'];
    return {
      id: c.id,
      tenantId: c.tenantId,
      subject: c.subject,
      title: c.title === null ? null : open('title', c.title),
      metadata:
        typeof sealedMetadata === 'string'
          ? (JSON.parse(open('metadata', sealedMetadata)) as Record<string, unknown>)
          : null,
      startedAt: c.startedAt,
      createdAt: c.createdAt,
      turn: c.turn,
      status: c.status,
      closedAt: c.closedAt,
    };
  }

  #iso(): string {
    return new Date(this.#o.clock.now()).toISOString();
  }
}

function requestHash(input: AppendTurnInput): string {
  return createHash('sha256')
    .update(canonicalJson({ role: input.role, content: input.content, expectedTurn: input.expectedTurn }))
    .digest('hex');
}
