import type { ChainVerifier } from '../conversations/chain-verifier.ts';
import { genesisHash } from '../conversations/turn-hash.ts';
import type { Clock } from '../core/clock.ts';
import { asConversationId, asTenantId, type ConversationId, type Role, type TenantId } from '../core/types.ts';
import { isAppError } from '../errors/index.ts';
import type { AuditBatch, ConversationRecord, Store, TurnRecord } from '../store/port.ts';
import type { ParticipantLine } from './format.ts';
import { lineError } from './parse.ts';
import type { ReadRecord, RecordReader } from './reader.ts';

/** What {@link importConversationSection} needs. */
export interface ConversationImport {
  store: Store;
  reader: RecordReader;
  tenantId: TenantId;
  /** Opens each turn and checks its content against its hash; null checks the links only. */
  verifier: Pick<ChainVerifier, 'open'> | null;
  clock: Clock;
}

/**
 * Reads one `conversation` record, its turns, participants, context state and
 * stream events. The turns must chain from the conversation's own genesis
 * hash to its head hash (and, with a verifier, open and hash to their stored
 * hash) before anything is written; the conversation and its turns are then
 * stored in one atomic `importConversation`, and each participant as it was
 * (same inviter and time). Returns the conversation id.
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

  for (let read = await reader.nextIf('participant'); read; read = await reader.nextIf('participant')) {
    await importParticipant(store, tenantId, id, read, options.clock);
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

// No audit events of its own: the tenant's chain is imported after its conversations and must start from
// genesis, so what was imported is recorded by the tenant's `import.create` event (with a participant count).
async function importParticipant(
  store: Store,
  tenantId: TenantId,
  id: ConversationId,
  read: ReadRecord<ParticipantLine>,
  clock: Clock,
): Promise<void> {
  belongs(read.record.conversationId, id, read.line);
  const { subject } = read.record.participant;
  const silent: AuditBatch<boolean> = { at: new Date(clock.now()), events: () => [] };
  let added: boolean;
  try {
    added = await store.addParticipant(tenantId, id, read.record.participant, silent);
  } catch (error) {
    if (!isAppError(error)) throw error;
    throw lineError(read.line, `the target refused participant ${subject} of ${id}: ${error.message}`, error.code);
  }
  if (!added) {
    throw lineError(read.line, `participant ${subject} of ${id} appears twice, or is the conversation's owner`);
  }
}

function belongs(conversationId: string, id: string, line: number): void {
  if (conversationId !== id) {
    throw lineError(line, `a record of conversation ${conversationId} among the records of ${id}`);
  }
}
