import { randomBytes } from 'node:crypto';
import { sealEvent } from '../../src/audit/chain.ts';
import type { AuditEvent, AuditEventInput } from '../../src/audit/event.ts';
import { verifyChain } from '../../src/audit/verify.ts';
import { base32 } from '../../src/conversations/session-id.ts';
import { genesisHash, turnHash } from '../../src/conversations/turn-hash.ts';
import { asConversationId, asTenantId, type ConversationId, type Role, type TenantId } from '../../src/core/types.ts';
import type {
  AppendOutcome,
  AppendTurnRequest,
  AuditBatch,
  ConversationRecord,
  NewConversation,
  Store,
  TurnRecord,
} from '../../src/store/port.ts';

/** Record builders and small helpers shared by the store conformance suite. */

export const T0 = Date.UTC(2026, 0, 1);
/** ISO time `seconds` after the suite's epoch. */
export const iso = (seconds = 0): string => new Date(T0 + seconds * 1000).toISOString();

export const hex = (bytes = 8): string => randomBytes(bytes).toString('hex');
export const freshTenant = (): TenantId => asTenantId(`tnt_${hex()}`);
export const freshConversationId = (): ConversationId => asConversationId(`cnv_${base32(randomBytes(20))}`);

/** An audit batch of one event, told apart by `marker`, noting the outcome it got; outcomes kept in `outcomes`. */
export function recorder<O>(marker = `m_${hex(4)}`) {
  const outcomes: O[] = [];
  const batch: AuditBatch<O> = {
    at: new Date(T0),
    events: (outcome) => {
      outcomes.push(outcome);
      return [markerEvent(marker, outcomeName(outcome))];
    },
  };
  return { marker, outcomes, batch };
}

/** A batch that writes nothing. */
export function noAudit<O>(): AuditBatch<O> {
  return { at: new Date(T0), events: () => [] };
}

/** One audit event, told apart by `marker` (its resource id). */
export function markerEvent(marker: string, note = 'x'): AuditEventInput {
  return {
    action: 'conversation.read',
    actor: { kind: 'system' },
    resource: { type: 'conversation', id: marker },
    outcome: 'success',
    detail: { note },
  };
}

// A short name of an outcome for the event's detail (never content).
function outcomeName(outcome: unknown): string {
  if (typeof outcome !== 'object' || outcome === null) return String(outcome);
  if ('kind' in outcome) return String(outcome.kind);
  if ('created' in outcome) return `created:${String(outcome.created)}`;
  if ('status' in outcome) return String(outcome.status);
  return 'object';
}

export function newConversation(id = freshConversationId(), overrides: Partial<NewConversation> = {}): NewConversation {
  return {
    id,
    subject: 'patient-1',
    title: null,
    metadata: null,
    clientKey: `ck_${hex(4)}`,
    startedAt: iso(),
    createdAt: iso(),
    genesisHash: genesisHash(id),
    ...overrides,
  };
}

/** Create a conversation in `tenantId` and return its row. */
export async function conversationIn(
  store: Store,
  tenantId: TenantId,
  overrides: Partial<NewConversation> = {},
): Promise<ConversationRecord> {
  const result = await store.createConversation(tenantId, newConversation(overrides.id, overrides), noAudit());
  return result.conversation;
}

/** Content bytes of a plain-text turn (the store never looks inside). */
export const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

/** A turn whose hash is the real turn hash of `text`, stored as its UTF-8 bytes. */
export function plainTurn(
  conversationId: ConversationId,
  number: number,
  prevHash: string,
  text: string,
  role: Role = 'user',
  createdAt = iso(number),
): TurnRecord {
  return {
    conversationId,
    number,
    role,
    content: bytes(text),
    createdAt,
    prevHash,
    hash: turnHash(prevHash, { conversationId, number, role, content: text, createdAt }),
  };
}

/** An append request whose turn is `text`. */
export function appendRequest(
  conversationId: ConversationId,
  expectedTurn: number,
  text: string,
  extra: Partial<Omit<AppendTurnRequest, 'build' | 'conversationId' | 'expectedTurn'>> = {},
): AppendTurnRequest {
  return {
    conversationId,
    expectedTurn,
    missedLimit: 100,
    build: (number, prevHash) => plainTurn(conversationId, number, prevHash, text),
    ...extra,
  };
}

export function append(
  store: Store,
  tenantId: TenantId,
  conversationId: ConversationId,
  expectedTurn: number,
  text: string,
  audit: AuditBatch<AppendOutcome> = noAudit(),
): Promise<AppendOutcome> {
  return store.appendTurn(tenantId, appendRequest(conversationId, expectedTurn, text), audit);
}

/** Every turn of a conversation, from turn 1. */
export const allTurns = (store: Store, tenantId: TenantId, id: ConversationId): Promise<TurnRecord[]> =>
  store.listTurns(tenantId, id, 0, 10_000);

/** Throws unless `turns` are 1..n, each linked to the one before and hashing its own text. */
export function assertTurnChain(conversation: ConversationRecord, turns: TurnRecord[]): void {
  let prevHash = conversation.genesisHash;
  for (const [index, turn] of turns.entries()) {
    if (turn.number !== index + 1) throw new Error(`turn ${index + 1} is numbered ${turn.number}`);
    if (turn.prevHash !== prevHash) throw new Error(`turn ${turn.number} does not link to turn ${index}`);
    const content = Buffer.from(turn.content).toString('utf8');
    const expected = turnHash(prevHash, { ...turn, content });
    if (turn.hash !== expected) throw new Error(`turn ${turn.number} does not hash to its content`);
    prevHash = turn.hash;
  }
}

/** Every audit event of a tenant's chain. */
export async function allAuditEvents(store: Store, tenantId: TenantId): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for (;;) {
    const page = await store.listAuditEvents(tenantId, { afterSeq: events.at(-1)?.seq ?? 0, limit: 500 });
    events.push(...page);
    if (page.length < 500) return events;
  }
}

/** Verify a tenant's chain with the audit verifier (no checkpoints). */
export async function verifyAudit(store: Store, tenantId: TenantId) {
  return verifyChain(await allAuditEvents(store, tenantId), [], () => undefined, { tenantId });
}

/** `count` sealed events continuing the chain after `head`, as an export would carry them. */
export function sealedEvents(
  tenantId: TenantId,
  head: { seq: number; hash: string } | null,
  count: number,
  marker = `m_${hex(4)}`,
): AuditEvent[] {
  const events: AuditEvent[] = [];
  let prev = head;
  for (let i = 0; i < count; i++) {
    const event = sealEvent(prev, tenantId, markerEvent(marker, `e${i}`), new Date(T0 + i * 1000));
    events.push(event);
    prev = { seq: event.seq, hash: event.hash };
  }
  return events;
}
