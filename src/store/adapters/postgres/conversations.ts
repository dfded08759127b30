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
import {
  CONVERSATION_COLUMNS,
  type ConversationRow,
  decodeCursor,
  encodeCursor,
  TURN_COLUMNS,
  type TurnRow,
  toConversation,
  toTurn,
} from './mapping.ts';
import type { PgConnection, Query } from './pool.ts';

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

const GET = `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE tenant_id = $1 AND id = $2`;
const INSERT = `INSERT INTO conversations
  (id, tenant_id, subject, title, metadata, client_key, started_at, created_at, genesis_hash, head_hash)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
  ON CONFLICT (id) DO NOTHING RETURNING ${CONVERSATION_COLUMNS}`;
const LIST = `SELECT ${CONVERSATION_COLUMNS} FROM conversations
  WHERE tenant_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`;
const LIST_OF_SUBJECT = `SELECT ${CONVERSATION_COLUMNS} FROM conversations
  WHERE tenant_id = $1 AND subject = $4 AND seq < $2 ORDER BY seq DESC LIMIT $3`;
const CLOSE = `UPDATE conversations SET status = 'closed', closed_at = $1
  WHERE tenant_id = $2 AND id = $3 AND status = 'open' RETURNING ${CONVERSATION_COLUMNS}`;
const LIST_TURNS = `SELECT ${TURN_COLUMNS} FROM turns
  WHERE tenant_id = $1 AND conversation_id = $2 AND number > $3 ORDER BY number LIMIT $4`;
const GET_TURNS = `SELECT ${TURN_COLUMNS} FROM turns
  WHERE tenant_id = $1 AND conversation_id = $2 AND number = ANY($3::int[]) ORDER BY number`;

// The row lock serializes appends to one conversation across every node.
const LOCK_FOR_APPEND = `${GET} FOR UPDATE`;
// Read after the lock, in its own statement: its snapshot then includes the key a racing retry just committed.
const GET_IDEMPOTENCY =
  'SELECT request_hash, turn_number FROM idempotency_keys WHERE conversation_id = $1 AND key = $2';
// Insert the turn and move the head in one statement; `turn = $9` re-checks what the lock guarantees.
const APPEND = `WITH turn AS (
    INSERT INTO turns (conversation_id, number, tenant_id, role, content, created_at, prev_hash, hash)
    VALUES ($2, $3, $1, $4, $5, $6, $7, $8)
  )
  UPDATE conversations SET turn = $3, head_hash = $8 WHERE tenant_id = $1 AND id = $2 AND turn = $9`;
const INSERT_IDEMPOTENCY = `INSERT INTO idempotency_keys
  (conversation_id, key, tenant_id, request_hash, turn_number, created_at) VALUES ($1, $2, $3, $4, $5, $6)`;

/** Bind the conversation methods to `conn`. */
export function conversationMethods(conn: PgConnection): ConversationMethods {
  const read = <R>(operation: string, text: string, values: unknown[]) =>
    conn.run<R>(operation, text, values, { idempotent: true }).then((result) => result.rows);

  return {
    async createConversation(
      tenantId: TenantId,
      record: NewConversation,
      audit: AuditBatch<{ created: boolean; conversation: ConversationRecord }>,
    ): Promise<{ created: boolean; conversation: ConversationRecord }> {
      return conn.audited(
        'createConversation',
        tenantId,
        audit,
        async (query) => {
          const inserted = await query<ConversationRow>(INSERT, [
            record.id,
            tenantId,
            record.subject,
            record.title,
            record.metadata === null ? null : JSON.stringify(record.metadata),
            record.clientKey,
            record.startedAt,
            record.createdAt,
            record.genesisHash,
          ]);
          if (inserted.rows[0]) return { created: true, conversation: toConversation(inserted.rows[0]) };
          // Ids are global: return the existing row whatever its tenant; the caller checks its owner.
          const existing = await query<ConversationRow>(
            `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = $1`,
            [record.id],
          );
          return { created: false, conversation: toConversation(existing.rows[0]!) };
        },
        // A retry after a lost commit finds the row: created false, the same conversation.
        { idempotent: true },
      );
    },

    async getConversation(tenantId: TenantId, id: ConversationId): Promise<ConversationRecord | null> {
      const rows = await read<ConversationRow>('getConversation', GET, [tenantId, id]);
      return rows[0] ? toConversation(rows[0]) : null;
    },

    async listConversations(tenantId: TenantId, query: ListConversationsQuery): Promise<Page<ConversationRecord>> {
      let before = Number.MAX_SAFE_INTEGER;
      if (query.cursor !== undefined) {
        const decoded = decodeCursor(query.cursor);
        if (decoded === null) throw new AppError('invalid_request', 'cursor is not a cursor this server issued');
        before = decoded;
      }
      // One row more than the page tells whether there is a next page.
      const rows =
        query.subject === undefined
          ? await read<ConversationRow>('listConversations', LIST, [tenantId, before, query.limit + 1])
          : await read<ConversationRow>('listConversations', LIST_OF_SUBJECT, [
              tenantId,
              before,
              query.limit + 1,
              query.subject,
            ]);
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
      return conn.audited(
        'closeConversation',
        tenantId,
        audit,
        async (query) => {
          const closed = await query<ConversationRow>(CLOSE, [closedAt, tenantId, id]);
          const row = closed.rows[0] ?? (await query<ConversationRow>(GET, [tenantId, id])).rows[0];
          return row ? toConversation(row) : null;
        },
        // Closing twice leaves the same closed row.
        { idempotent: true },
      );
    },

    async appendTurn(
      tenantId: TenantId,
      request: AppendTurnRequest,
      audit: AuditBatch<AppendOutcome>,
    ): Promise<AppendOutcome> {
      // Retried even when a commit's outcome is unknown: a repeat of an append
      // that did commit meets its own turn (conflict) or its idempotency key (replayed).
      return conn.audited('appendTurn', tenantId, audit, (query) => appendIn(query, tenantId, request), {
        idempotent: true,
      });
    },

    async listTurns(tenantId: TenantId, id: ConversationId, after: number, limit: number): Promise<TurnRecord[]> {
      return (await read<TurnRow>('listTurns', LIST_TURNS, [tenantId, id, after, limit])).map(toTurn);
    },

    async getTurns(tenantId: TenantId, id: ConversationId, numbers: readonly number[]): Promise<TurnRecord[]> {
      const wanted = turnNumbersToGet(numbers);
      if (wanted.length === 0) return [];
      return (await read<TurnRow>('getTurns', GET_TURNS, [tenantId, id, wanted])).map(toTurn);
    },
  };
}

async function appendIn(query: Query, tenantId: TenantId, request: AppendTurnRequest): Promise<AppendOutcome> {
  const locked = await query<ConversationRow>(LOCK_FOR_APPEND, [tenantId, request.conversationId]);
  const row = locked.rows[0];
  if (!row) return { kind: 'not_found' };
  const conversation = toConversation(row);
  // A retry is answered first: the append it repeats already passed the closed and turn checks.
  if (request.idempotency) {
    const { rows } = await query<{ request_hash: string; turn_number: number }>(GET_IDEMPOTENCY, [
      request.conversationId,
      request.idempotency.key,
    ]);
    const previous = rows[0];
    if (previous) {
      return previous.request_hash === request.idempotency.requestHash
        ? { kind: 'replayed', turnNumber: previous.turn_number, conversation }
        : { kind: 'idempotency_mismatch' };
    }
  }
  if (conversation.status === 'closed') return { kind: 'closed' };
  if (request.expectedTurn !== conversation.turn) {
    const missed = await query<TurnRow>(LIST_TURNS, [
      tenantId,
      request.conversationId,
      request.expectedTurn,
      request.missedLimit,
    ]);
    return { kind: 'conflict', currentTurn: conversation.turn, missed: missed.rows.map(toTurn) };
  }
  const turn = request.build(conversation.turn + 1, conversation.headHash);
  await query(APPEND, [
    tenantId,
    request.conversationId,
    turn.number,
    turn.role,
    turn.content,
    turn.createdAt,
    turn.prevHash,
    turn.hash,
    conversation.turn,
  ]);
  if (request.idempotency) {
    await query(INSERT_IDEMPOTENCY, [
      request.conversationId,
      request.idempotency.key,
      tenantId,
      request.idempotency.requestHash,
      turn.number,
      request.idempotency.createdAt,
    ]);
  }
  return { kind: 'appended', turn, conversation: { ...conversation, turn: turn.number, headHash: turn.hash } };
}
