import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ConversationId, TenantId } from '../../../core/types.ts';
import { AppError } from '../../../errors/index.ts';
import { storeUnavailable } from '../../errors.ts';
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
import type { AuditChains, Plan } from './audit-chain.ts';
import { type DynamoContext, request } from './client.ts';
import { Expression } from './expression.ts';
import { key, PAD_MAX, pad, partition, TURN_PREFIX } from './keys.ts';
import {
  CONVERSATION_ATTRS,
  conversationItem,
  decodeCursor,
  encodeCursor,
  TURN_ATTRS,
  toConversation,
  toTurn,
  turnItem,
} from './mapping.ts';
import { absent, batchGetItems, getItem, putAction, queryItems, updateAction } from './requests.ts';

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

/** Read one conversation (strongly consistent). */
export async function readConversation(
  ctx: DynamoContext,
  operation: string,
  tenantId: string,
  id: string,
): Promise<ConversationRecord | null> {
  const item = await getItem(ctx, operation, key.conversation(tenantId, id), CONVERSATION_ATTRS);
  return item === undefined ? null : toConversation(item);
}

/** Turns with `number > after`, ascending, at most `limit` (strongly consistent). */
export async function readTurns(
  ctx: DynamoContext,
  operation: string,
  tenantId: string,
  id: string,
  after: number,
  limit: number,
): Promise<TurnRecord[]> {
  const first = Math.max(0, Math.floor(after) + 1);
  if (!(limit >= 1) || first > Number.MAX_SAFE_INTEGER) return [];
  const items = await queryItems(ctx, operation, {
    pk: partition.conversation(tenantId, id),
    sk: { op: 'between', low: `${TURN_PREFIX}${pad(first)}`, high: `${TURN_PREFIX}${PAD_MAX}` },
    attrs: TURN_ATTRS,
    limit: Math.floor(limit),
  });
  return items.map(toTurn);
}

/** The next number of the tenant's conversation counter (list order is creation order; gaps are harmless). */
export async function nextConversationSeq(ctx: DynamoContext, operation: string, tenantId: string): Promise<number> {
  const e = new Expression();
  const out = await request(operation, () =>
    ctx.doc.send(
      new UpdateCommand({
        TableName: ctx.table,
        Key: key.conversationSeq(tenantId),
        UpdateExpression: `ADD ${e.name('seq')} ${e.value(1)}`,
        ReturnValues: 'UPDATED_NEW',
        ...e.attributes(),
      }),
    ),
  );
  return out.Attributes?.seq as number;
}

/** Bind the conversation methods to `ctx`. */
export function conversationMethods(ctx: DynamoContext, chains: AuditChains): ConversationMethods {
  const table = ctx.table;

  const planCreate = async (
    tenantId: TenantId,
    record: NewConversation,
  ): Promise<Plan<{ created: boolean; conversation: ConversationRecord }>> => {
    // Ids are global: return an existing conversation whatever its tenant; the caller checks its owner.
    const claim = await getItem(ctx, 'createConversation', key.conversationClaim(record.id), ['tenantId']);
    if (claim !== undefined) {
      const existing = await readConversation(ctx, 'createConversation', claim.tenantId as string, record.id);
      if (existing === null) {
        throw storeUnavailable('createConversation', new Error(`conversation ${record.id} is claimed but missing`));
      }
      return { outcome: { created: false, conversation: existing }, writes: [] };
    }
    const seq = await nextConversationSeq(ctx, 'createConversation', tenantId);
    const conversation: ConversationRecord = {
      ...record,
      tenantId,
      turn: 0,
      headHash: record.genesisHash,
      status: 'open',
      closedAt: null,
    };
    return {
      outcome: { created: true, conversation },
      writes: [
        { action: putAction(table, { ...key.conversationClaim(record.id), tenantId }, absent) },
        { action: putAction(table, conversationItem(conversation, seq), absent) },
        { action: putAction(table, { ...key.conversationIndex(tenantId, seq), id: record.id }) },
        { action: putAction(table, { ...key.subjectIndex(tenantId, record.subject, seq), id: record.id }) },
      ],
    };
  };

  const planAppend = async (tenantId: TenantId, req: AppendTurnRequest): Promise<Plan<AppendOutcome>> => {
    const id = req.conversationId;
    const [conversation, previous] = await Promise.all([
      readConversation(ctx, 'appendTurn', tenantId, id),
      req.idempotency === undefined
        ? undefined
        : getItem(ctx, 'appendTurn', key.idempotency(tenantId, id, req.idempotency.key), ['requestHash', 'turnNumber']),
    ]);
    if (conversation === null) return { outcome: { kind: 'not_found' }, writes: [] };
    // A retry is answered first: the append it repeats already passed the closed and turn checks.
    if (req.idempotency !== undefined && previous !== undefined) {
      return {
        outcome:
          previous.requestHash === req.idempotency.requestHash
            ? { kind: 'replayed', turnNumber: previous.turnNumber as number, conversation }
            : { kind: 'idempotency_mismatch' },
        writes: [],
      };
    }
    if (conversation.status === 'closed') return { outcome: { kind: 'closed' }, writes: [] };
    if (req.expectedTurn !== conversation.turn) {
      const missed = await readTurns(ctx, 'appendTurn', tenantId, id, req.expectedTurn, req.missedLimit);
      return { outcome: { kind: 'conflict', currentTurn: conversation.turn, missed }, writes: [] };
    }
    const turn = req.build(conversation.turn + 1, conversation.headHash);
    const writes = [
      // The turn's own key makes (conversation, number) unique, whatever else happens.
      { action: putAction(table, turnItem(tenantId, turn), absent) },
      {
        action: updateAction(table, key.conversation(tenantId, id), (e) => ({
          update: `SET ${e.name('turn')} = ${e.value(turn.number)}, ${e.name('headHash')} = ${e.value(turn.hash)}`,
          condition: `${e.name('turn')} = ${e.value(conversation.turn)} AND ${e.name('status')} = ${e.value('open')}`,
        })),
      },
    ];
    if (req.idempotency !== undefined) {
      const item = {
        ...key.idempotency(tenantId, id, req.idempotency.key),
        requestHash: req.idempotency.requestHash,
        turnNumber: turn.number,
        createdAt: req.idempotency.createdAt,
      };
      writes.push({ action: putAction(table, item, absent) });
    }
    return {
      outcome: { kind: 'appended', turn, conversation: { ...conversation, turn: turn.number, headHash: turn.hash } },
      writes,
    };
  };

  return {
    async createConversation(
      tenantId: TenantId,
      record: NewConversation,
      audit: AuditBatch<{ created: boolean; conversation: ConversationRecord }>,
    ): Promise<{ created: boolean; conversation: ConversationRecord }> {
      const { outcome } = await chains.audited('createConversation', tenantId, audit, () =>
        planCreate(tenantId, record),
      );
      return outcome;
    },

    getConversation(tenantId: TenantId, id: ConversationId): Promise<ConversationRecord | null> {
      return readConversation(ctx, 'getConversation', tenantId, id);
    },

    async listConversations(tenantId: TenantId, query: ListConversationsQuery): Promise<Page<ConversationRecord>> {
      let before = Number.MAX_SAFE_INTEGER;
      if (query.cursor !== undefined) {
        const decoded = decodeCursor(query.cursor);
        if (decoded === null) throw new AppError('invalid_request', 'cursor is not a cursor this server issued');
        before = decoded;
      }
      if (!(query.limit >= 1)) return { items: [], nextCursor: null };
      const limit = Math.floor(query.limit);
      // One index entry more than the page tells whether there is a next page.
      const entries = await queryItems(ctx, 'listConversations', {
        pk:
          query.subject === undefined ? partition.conversations(tenantId) : partition.subject(tenantId, query.subject),
        sk: { op: '<', value: pad(before) },
        attrs: ['SK', 'id'],
        limit: limit + 1,
        forward: false,
      });
      const page = entries.slice(0, limit);
      const found = await batchGetItems(
        ctx,
        'listConversations',
        page.map((entry) => key.conversation(tenantId, entry.id as string)),
        CONVERSATION_ATTRS,
      );
      const byId = new Map(found.map((item) => [item.id as string, toConversation(item)]));
      const items = page.flatMap((entry) => byId.get(entry.id as string) ?? []);
      const last = page.at(-1);
      return {
        items,
        nextCursor: entries.length > limit && last !== undefined ? encodeCursor(Number(last.SK)) : null,
      };
    },

    async closeConversation(
      tenantId: TenantId,
      id: ConversationId,
      closedAt: string,
      audit: AuditBatch<ConversationRecord | null>,
    ): Promise<ConversationRecord | null> {
      const { outcome } = await chains.audited('closeConversation', tenantId, audit, async () => {
        const conversation = await readConversation(ctx, 'closeConversation', tenantId, id);
        if (conversation === null || conversation.status === 'closed') return { outcome: conversation, writes: [] };
        const closed: ConversationRecord = { ...conversation, status: 'closed', closedAt };
        const action = updateAction(table, key.conversation(tenantId, id), (e) => ({
          update: `SET ${e.name('status')} = ${e.value('closed')}, ${e.name('closedAt')} = ${e.value(closedAt)}`,
          condition: `${e.name('status')} = ${e.value('open')}`,
        }));
        return { outcome: closed, writes: [{ action }] };
      });
      return outcome;
    },

    async appendTurn(
      tenantId: TenantId,
      req: AppendTurnRequest,
      audit: AuditBatch<AppendOutcome>,
    ): Promise<AppendOutcome> {
      const { outcome } = await chains.audited('appendTurn', tenantId, audit, () => planAppend(tenantId, req));
      return outcome;
    },

    listTurns(tenantId: TenantId, id: ConversationId, after: number, limit: number): Promise<TurnRecord[]> {
      return readTurns(ctx, 'listTurns', tenantId, id, after, limit);
    },

    async getTurns(tenantId: TenantId, id: ConversationId, numbers: readonly number[]): Promise<TurnRecord[]> {
      const wanted = turnNumbersToGet(numbers);
      if (wanted.length === 0) return [];
      // One BatchGetItem (at most 100 keys, DynamoDB's own limit), strongly consistent like readTurns.
      const items = await batchGetItems(
        ctx,
        'getTurns',
        wanted.map((n) => key.turn(tenantId, id, n)),
        TURN_ATTRS,
      );
      return items.map(toTurn).sort((a, b) => a.number - b.number);
    },
  };
}
