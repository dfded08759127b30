import type { ConversationId, TenantId } from '../../../core/types.ts';
import { AppError } from '../../../errors/index.ts';
import {
  type AppendOutcome,
  type AppendTurnRequest,
  type AuditBatch,
  type ConversationRecord,
  type ListConversationsQuery,
  type NewConversation,
  type Page,
  type Store,
  type TurnRecord,
  turnNumbersToGet,
} from '../../port.ts';
import type { SqliteConnection } from './connection.ts';
import { type ConversationRow, decodeCursor, encodeCursor, type TurnRow, toConversation, toTurn } from './mapping.ts';

/** The store methods over conversations, their turns and idempotency keys. */
export type ConversationMethods = Pick<
  Store,
  | 'createConversation'
  | 'getConversation'
  | 'listConversations'
  | 'closeConversation'
  | 'appendTurn'
  | 'listTurns'
  | 'getTurns'
>;

/** Bind the conversation methods to `conn`. */
export function conversationMethods(conn: SqliteConnection): ConversationMethods {
  return {
    async createConversation(
      tenantId: TenantId,
      record: NewConversation,
      audit: AuditBatch<{ created: boolean; conversation: ConversationRecord }>,
    ): Promise<{ created: boolean; conversation: ConversationRecord }> {
      return conn.audited('createConversation', tenantId, audit, () => {
        const q = conn.queries;
        // Ids are global: return an existing row whatever its tenant; the caller checks its owner.
        const existing = q.getConversationAnyTenant.get(record.id) as ConversationRow | undefined;
        if (existing) return { created: false, conversation: toConversation(existing) };
        q.insertConversation.run({
          id: record.id,
          tenant_id: tenantId,
          subject: record.subject,
          title: record.title,
          metadata: record.metadata === null ? null : JSON.stringify(record.metadata),
          client_key: record.clientKey,
          started_at: record.startedAt,
          created_at: record.createdAt,
          genesis_hash: record.genesisHash,
        });
        const row = q.getConversation.get(tenantId, record.id) as ConversationRow;
        return { created: true, conversation: toConversation(row) };
      });
    },

    async getConversation(tenantId: TenantId, id: ConversationId): Promise<ConversationRecord | null> {
      const row = conn.read('getConversation', () => conn.queries.getConversation.get(tenantId, id));
      return row ? toConversation(row as ConversationRow) : null;
    },

    async listConversations(tenantId: TenantId, query: ListConversationsQuery): Promise<Page<ConversationRecord>> {
      let before = Number.MAX_SAFE_INTEGER;
      if (query.cursor !== undefined) {
        const decoded = decodeCursor(query.cursor);
        if (decoded === null) throw new AppError('invalid_request', 'cursor is not a cursor this server issued');
        before = decoded;
      }
      // One row more than the page tells whether there is a next page.
      const rows = conn.read('listConversations', () =>
        query.subject === undefined
          ? conn.queries.listConversations.all(tenantId, before, query.limit + 1)
          : conn.queries.listConversationsOfSubject.all(tenantId, query.subject, before, query.limit + 1),
      ) as ConversationRow[];
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        items: page.map(toConversation),
        nextCursor: rows.length > query.limit && last ? encodeCursor(last.seq) : null,
      };
    },

    async closeConversation(
      tenantId: TenantId,
      id: ConversationId,
      closedAt: string,
      audit: AuditBatch<ConversationRecord | null>,
    ): Promise<ConversationRecord | null> {
      return conn.audited('closeConversation', tenantId, audit, () => {
        conn.queries.closeConversation.run(closedAt, tenantId, id);
        const row = conn.queries.getConversation.get(tenantId, id) as ConversationRow | undefined;
        return row ? toConversation(row) : null;
      });
    },

    async appendTurn(
      tenantId: TenantId,
      request: AppendTurnRequest,
      audit: AuditBatch<AppendOutcome>,
    ): Promise<AppendOutcome> {
      return conn.audited('appendTurn', tenantId, audit, (): AppendOutcome => {
        const q = conn.queries;
        const row = q.getConversation.get(tenantId, request.conversationId) as ConversationRow | undefined;
        if (!row) return { kind: 'not_found' };
        const conversation = toConversation(row);
        // A retry is answered first: the append it repeats already passed the closed and turn checks.
        if (request.idempotency) {
          const previous = q.getIdempotency.get(request.conversationId, request.idempotency.key) as
            | { request_hash: string; turn_number: number }
            | undefined;
          if (previous) {
            return previous.request_hash === request.idempotency.requestHash
              ? { kind: 'replayed', turnNumber: previous.turn_number, conversation }
              : { kind: 'idempotency_mismatch' };
          }
        }
        if (conversation.status === 'closed') return { kind: 'closed' };
        if (request.expectedTurn !== conversation.turn) {
          const missed = (
            q.listTurns.all(request.conversationId, request.expectedTurn, request.missedLimit) as TurnRow[]
          )
            .filter((turn) => turn.number > request.expectedTurn)
            .map(toTurn);
          return { kind: 'conflict', currentTurn: conversation.turn, missed };
        }
        const turn = request.build(conversation.turn + 1, conversation.headHash);
        q.insertTurn.run(
          request.conversationId,
          turn.number,
          tenantId,
          turn.role,
          turn.content,
          turn.createdAt,
          turn.prevHash,
          turn.hash,
        );
        q.advanceConversation.run(turn.number, turn.hash, tenantId, request.conversationId, conversation.turn);
        if (request.idempotency) {
          q.insertIdempotency.run(
            request.conversationId,
            request.idempotency.key,
            tenantId,
            request.idempotency.requestHash,
            turn.number,
            request.idempotency.createdAt,
          );
        }
        return { kind: 'appended', turn, conversation: { ...conversation, turn: turn.number, headHash: turn.hash } };
      });
    },

    async listTurns(tenantId: TenantId, id: ConversationId, after: number, limit: number): Promise<TurnRecord[]> {
      const rows = conn.read('listTurns', () =>
        conn.queries.listTurnsOfTenant.all(tenantId, id, after, limit),
      ) as TurnRow[];
      return rows.map(toTurn);
    },

    async getTurns(tenantId: TenantId, id: ConversationId, numbers: readonly number[]): Promise<TurnRecord[]> {
      const wanted = turnNumbersToGet(numbers);
      if (wanted.length === 0) return [];
      const rows = conn.read('getTurns', () =>
        conn.queries.getTurns.all(tenantId, id, JSON.stringify(wanted)),
      ) as TurnRow[];
      return rows.map(toTurn);
    },
  };
}
