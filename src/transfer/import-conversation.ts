import type { ChainVerifier } from '../conversations/chain-verifier.ts';
import { genesisHash } from '../conversations/turn-hash.ts';
import { asConversationId, asTenantId, type Role, type TenantId } from '../core/types.ts';
import { isAppError } from '../errors/index.ts';
import type { ConversationRecord, Store, TurnRecord } from '../store/port.ts';
import { lineError } from './parse.ts';
import type { RecordReader } from './reader.ts';

/** What {@link importConversationSection} needs. */
export interface ConversationImport {
  store: Store;
  reader: RecordReader;
  tenantId: TenantId;
  /** Opens each turn and checks its content against its hash; null checks the links only. */
  verifier: Pick<ChainVerifier, 'open'> | null;
}

/**
 * Reads one `conversation` record, its turns, context state and stream
 * events. The turns must chain from the conversation's own genesis hash to
 * its head hash (and, with a verifier, open and hash to their stored hash)
 * before anything is written; the conversation and its turns are then stored
 * in one atomic `importConversation`. Returns the conversation id.
 */
export async function importConversationSection(options: ConversationImport): Promise<string> {
  const { store, reader, tenantId, verifier } = options;
  const { record, line } = await reader.take('conversation', 'a conversation');
  const conversation = { ...record.conversation, id: asConversationId(record.conversation.id) } as ConversationRecord;
  const id = conversation.id;
  if (conversation.tenantId !== tenantId) {
    throw lineError(line, `conversation ${id} belongs to ${conversation.tenantId}, not to ${tenantId}`);
  }
  if (conversation.genesisHash !== genesisHash(id)) {
    throw lineError(line, `conversation ${id} does not start from its own genesis hash`, 'state_corrupt');
  }

  const turns: TurnRecord[] = [];
  let prevHash = conversation.genesisHash;
  let lastLine = line;
  for (let number = 1; number <= conversation.turn; number++) {
    const read = await reader.take('turn', `turn ${number} of conversation ${id}`);
    const t = read.record.turn;
    if (t.conversationId !== id || t.number !== number) {
      throw lineError(read.line, `expected turn ${number} of ${id}, found turn ${t.number} of ${t.conversationId}`);
    }
    const turn: TurnRecord = {
      ...t,
      conversationId: id,
      role: t.role as Role,
      content: Buffer.from(t.content, 'base64'),
    };
    if (turn.prevHash !== prevHash) {
      const what = number === 1 ? 'the genesis hash' : `the hash of turn ${number - 1}`;
      throw lineError(read.line, `turn ${number} of ${id} does not link to ${what}`, 'state_corrupt');
    }
    if (verifier) {
      try {
        verifier.open(asTenantId(tenantId), turn, prevHash);
      } catch (error) {
        if (!isAppError(error)) throw error;
        throw lineError(read.line, error.message, 'state_corrupt', error);
      }
    }
    turns.push(turn);
    prevHash = turn.hash;
    lastLine = read.line;
  }
  if (prevHash !== conversation.headHash) {
    throw lineError(lastLine, `the turns of ${id} do not end at its head hash`, 'state_corrupt');
  }

  try {
    await store.importConversation(tenantId, conversation, turns);
  } catch (error) {
    if (!isAppError(error)) throw error;
    const detail =
      error.code === 'conversation_conflict'
        ? `conversation ${id} already exists on the target`
        : `the target refused conversation ${id}: ${error.message}`;
    throw lineError(line, detail, error.code, error);
  }

  const state = await reader.nextIf('context_state');
  if (state) {
    belongs(state.record.conversationId, id, state.line);
    const { version, throughTurn, updatedAt } = state.record.state;
    const stored = await store.putContextState(
      tenantId,
      id,
      { version, throughTurn, updatedAt, state: Buffer.from(state.record.state.state, 'base64') },
      null,
    );
    if (!stored)
      throw lineError(state.line, `the target already has a context state for ${id}`, 'conversation_conflict');
  }
  for (let read = await reader.nextIf('stream_event'); read; read = await reader.nextIf('stream_event')) {
    belongs(read.record.conversationId, id, read.line);
    const { id: eventId, event, data } = read.record.event;
    try {
      await store.appendStreamEvent(tenantId, id, { id: eventId, event, data: Buffer.from(data, 'base64') });
    } catch (error) {
      if (!isAppError(error)) throw error;
      throw lineError(read.line, `the target refused stream event ${eventId} of ${id}: ${error.message}`, error.code);
    }
  }
  return id;
}

function belongs(conversationId: string, id: string, line: number): void {
  if (conversationId !== id) {
    throw lineError(line, `a record of conversation ${conversationId} among the records of ${id}`);
  }
}
