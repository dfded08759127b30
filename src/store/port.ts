import type { AuditCheckpoint } from '../audit/checkpoint.ts';
import type { AuditEvent, AuditEventInput } from '../audit/event.ts';
import type { ConversationId, Role, Scope, TenantId } from '../core/types.ts';
import type { DataKeyRepository } from '../crypto/data-keys.ts';

/**
 * The Store port: everything Continuum keeps. Every call that touches tenant
 * data takes the tenant first, so no query can forget it. Adapters make each
 * mutating call atomic (one transaction, or one conditional write) and wrap
 * driver errors in `AppError('store_unavailable')` (`storeUnavailable()`);
 * refusals are `AppError`s with their own code, caller misuse is a `TypeError`.
 * Reads with a tenant that does not own a row answer as if the row did not exist.
 *
 * `test/store/conformance.ts` (`describeStore`) is the executable form of this
 * contract; every adapter runs it. Of the `DataKeyRepository` methods,
 * `rewrapDataKey` also appends a `key.rotate` event to the tenant's audit chain
 * when (and only when) its rewrap wins.
 */
export interface Store extends DataKeyRepository {
  readonly kind: 'sqlite' | 'postgres' | 'dynamodb';
  /** Apply pending migrations; safe to run from several processes at once. */
  migrate(): Promise<{ from: number; to: number }>;
  /** A write round trip proving the store answers and accepts writes (used by /readyz): a read-only store is not ready. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Server-wide secret by name; the first caller's value wins, every node reads the same one. */
  getOrCreateSecret(name: string, create: () => string): Promise<string>;

  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /**
   * Add a signing key and retire `retireKid` (if given; its `retiredAt` becomes the new key's `createdAt`)
   * in one step. Audited on the system chain.
   */
  insertSigningKey(record: SigningKeyRecord, retireKid: string | null, audit: AuditBatch<void>): Promise<void>;

  /** `tenant_exists` if the id or the name is taken; a refused create writes nothing, not even its audit events. */
  createTenant(tenant: TenantRecord, apiKey: ApiKeyRecord, audit: AuditBatch<void>): Promise<void>;
  getTenant(tenantId: TenantId): Promise<TenantRecord | null>;
  findApiKey(tenantId: TenantId, hash: string): Promise<ApiKeyRecord | null>;

  createRefreshFamily(
    tenantId: TenantId,
    family: RefreshFamilyRecord,
    first: RefreshTokenRecord,
    audit: AuditBatch<void>,
  ): Promise<void>;
  /**
   * Spend `oldHash` and store `next` in the same family, atomically. A token
   * already spent revokes its whole family (reason `reuse`, at `nowMs`) and
   * reports `reused` with the revoked family. Checked in this order: unknown
   * token (or another tenant's) → `not_found`; revoked family → `revoked`;
   * spent → `reused`; token or family expiry `<= nowMs` → `expired` (nothing
   * is spent). `next` never outlives its family.
   */
  rotateRefreshToken(
    tenantId: TenantId,
    oldHash: string,
    next: Omit<RefreshTokenRecord, 'familyId'>,
    nowMs: number,
    audit: AuditBatch<RotateOutcome>,
  ): Promise<RotateOutcome>;
  getRefreshFamily(tenantId: TenantId, familyId: string): Promise<RefreshFamilyRecord | null>;
  /**
   * Revoke the family `hash` belongs to; returns that family's id, or null if the token is unknown.
   * A family already revoked keeps its first time and reason.
   */
  revokeRefreshFamilyOf(
    tenantId: TenantId,
    hash: string,
    reason: string,
    atMs: number,
    audit: AuditBatch<string | null>,
  ): Promise<string | null>;

  /**
   * Insert at turn 0 with `headHash = genesisHash`, or return the existing row with the same id,
   * unchanged and whatever its tenant (ids are global; the caller checks its owner).
   */
  createConversation(
    tenantId: TenantId,
    record: NewConversation,
    audit: AuditBatch<{ created: boolean; conversation: ConversationRecord }>,
  ): Promise<{ created: boolean; conversation: ConversationRecord }>;
  getConversation(tenantId: TenantId, id: ConversationId): Promise<ConversationRecord | null>;
  /** Newest first (most recently stored first); `invalid_request` for a cursor this store did not issue. */
  listConversations(tenantId: TenantId, query: ListConversationsQuery): Promise<Page<ConversationRecord>>;
  /** The closed row; closing a closed conversation returns it unchanged (first `closedAt` kept); null if not found. */
  closeConversation(
    tenantId: TenantId,
    id: ConversationId,
    closedAt: string,
    audit: AuditBatch<ConversationRecord | null>,
  ): Promise<ConversationRecord | null>;

  /**
   * Append one turn if the conversation is still at `expectedTurn` (ADR-003). Of racing appends at the same
   * expected turn, from any number of nodes, exactly one is `appended`. An idempotency key seen before is
   * answered first (`replayed`, or `idempotency_mismatch` for another request hash), even once closed; then
   * `closed`; then a stale `expectedTurn` is a `conflict` with the turns after it, at most `missedLimit`.
   * `build` is called once, and only when the turn will be written.
   */
  appendTurn(tenantId: TenantId, request: AppendTurnRequest, audit: AuditBatch<AppendOutcome>): Promise<AppendOutcome>;
  /** Turns with `number > after`, ascending, at most `limit`. */
  listTurns(tenantId: TenantId, id: ConversationId, after: number, limit: number): Promise<TurnRecord[]>;
  /**
   * The turns whose number is in `numbers`, ascending, in one round trip (retrieval reads scattered turns
   * with their predecessors). Duplicates, non-positive and non-integer numbers are ignored; a number with
   * no turn is simply absent. `TypeError` past {@link MAX_GET_TURNS} numbers.
   *
   * @example
   * const [anchor, hit] = await store.getTurns(tenantId, id, [41, 42]);
   */
  getTurns(tenantId: TenantId, id: ConversationId, numbers: readonly number[]): Promise<TurnRecord[]>;

  /** A conversation's working-context state (sealed by the service), or null before its first update. */
  getContextState(tenantId: TenantId, conversationId: ConversationId): Promise<ContextStateRecord | null>;
  /**
   * Replace the working-context state if its version is still `expectedVersion`
   * (null: none stored yet). Returns false when another writer got there first.
   */
  putContextState(
    tenantId: TenantId,
    conversationId: ConversationId,
    next: ContextStateRecord,
    expectedVersion: number | null,
    audit?: AuditBatch<boolean>,
  ): Promise<boolean>;

  /**
   * Store one stream event (data sealed by the caller); a duplicate id rejects with an `AppError` and keeps
   * the first.
   */
  appendStreamEvent(tenantId: TenantId, conversationId: ConversationId, event: StreamEventRecord): Promise<void>;
  /** Events with an id greater than `afterId` (all when null), oldest first. */
  listStreamEvents(
    tenantId: TenantId,
    conversationId: ConversationId,
    afterId: string | null,
    limit: number,
  ): Promise<StreamEventRecord[]>;
  lastStreamEventId(tenantId: TenantId, conversationId: ConversationId): Promise<string | null>;
  /** Delete all but the newest `keepLast` events of the conversation; `TypeError` unless `keepLast >= 1`. */
  pruneStreamEvents(tenantId: TenantId, conversationId: ConversationId, keepLast: number): Promise<void>;

  /**
   * Append events to the tenant's audit chain on their own (reads, refusals).
   * Audit rows are append-only: the store refuses UPDATE and DELETE.
   */
  appendAudit(tenantId: TenantId, events: AuditEventInput[], at: Date): Promise<AuditHead | null>;
  auditHead(tenantId: TenantId): Promise<AuditHead | null>;
  /** Events with `seq > afterSeq`, ascending; `resourceId` narrows to one resource (e.g. a conversation). */
  listAuditEvents(
    tenantId: TenantId,
    query: { afterSeq: number; limit: number; resourceId?: string },
  ): Promise<AuditEvent[]>;
  /** Store a signed checkpoint as given; a second one at the same seq is ignored. */
  insertAuditCheckpoint(checkpoint: AuditCheckpoint): Promise<void>;
  /** A tenant's checkpoints, ascending by seq. */
  listAuditCheckpoints(tenantId: TenantId): Promise<AuditCheckpoint[]>;
  /** Every tenant id that has an audit chain (including the system chain). */
  listAuditTenants(): Promise<TenantId[]>;

  // Collaborative conversations: subjects other than the owner who may read and append.

  /**
   * Make `participant.subject` a participant of the conversation. Returns false (and changes nothing)
   * when it already is one. The owner (`ConversationRecord.subject`) is never stored as a participant:
   * adding the owner is false too. Of racing adds of one subject, from any number of nodes, exactly one
   * is true. A conversation the tenant does not have is `not_found`; unlike other refusals that throw,
   * its audit events are still written first, with the outcome false.
   */
  addParticipant(
    tenantId: TenantId,
    conversationId: ConversationId,
    participant: ParticipantRecord,
    audit: AuditBatch<boolean>,
  ): Promise<boolean>;
  /** Remove a participant; returns false when `subject` was not one. */
  removeParticipant(
    tenantId: TenantId,
    conversationId: ConversationId,
    subject: string,
    audit: AuditBatch<boolean>,
  ): Promise<boolean>;
  /** The conversation's participants (owner excluded), oldest first (by `addedAt`, then subject). */
  listParticipants(tenantId: TenantId, conversationId: ConversationId): Promise<ParticipantRecord[]>;
  /** Whether `subject` is a participant (owner excluded) of the conversation. */
  isParticipant(tenantId: TenantId, conversationId: ConversationId, subject: string): Promise<boolean>;

  // Feature flags, shared by every node. Their audit events go to the system chain.

  /** Every flag, ordered by name. */
  listFlags(): Promise<FlagRecord[]>;
  /** Create or replace a flag (whole); `TypeError` for a malformed one (e.g. `percent` outside 0–100). */
  putFlag(flag: FlagRecord, audit: AuditBatch<void>): Promise<void>;

  // Moving data between stores (`continuum export` / `continuum import`).

  /** Every tenant, oldest first (by `createdAt`, then id). */
  listTenants(): Promise<TenantRecord[]>;
  /** A tenant's API keys (hashes only, revoked ones too), oldest first (by `createdAt`, then id). */
  listApiKeys(tenantId: TenantId): Promise<ApiKeyRecord[]>;
  /**
   * Insert an exported tenant with its keys as they were; `tenant_exists` if the id or name is taken,
   * and then nothing is written. Not audited (the import command records what it did).
   * `TypeError` if a key's `tenantId` is not the tenant's id.
   */
  importTenant(tenant: TenantRecord, apiKeys: ApiKeyRecord[]): Promise<void>;
  /**
   * Insert an exported conversation with all its turns as they were (ids, numbers, hashes, head).
   * `conversation_conflict` if the id exists in any tenant, and then nothing is written. The conversation is
   * visible only once every turn is stored. `TypeError` unless the conversation belongs to `tenantId` and its
   * turns are exactly 1..`turn` of it, each linked to the one before (from `genesisHash` to `headHash`).
   */
  importConversation(tenantId: TenantId, conversation: ConversationRecord, turns: TurnRecord[]): Promise<void>;
  /**
   * Insert exported audit events as they were. They must continue the tenant's chain exactly (first `seq` =
   * head seq + 1, or 1; first `prevHash` = head hash, or `GENESIS_HASH`; then contiguous seqs, each `prevHash`
   * the previous event's `hash`); otherwise `turn_conflict` and nothing is written. Hashes are kept, not
   * recomputed (`verify` judges them). An empty list is a no-op; `TypeError` if an event is another tenant's.
   */
  importAuditEvents(tenantId: TenantId, events: AuditEvent[]): Promise<void>;
}

/** Most numbers one {@link Store.getTurns} call takes. */
export const MAX_GET_TURNS = 100;

/**
 * What {@link Store.getTurns} looks up: the distinct positive integers of `numbers`, ascending.
 * `TypeError` when `numbers` holds more than {@link MAX_GET_TURNS} entries (duplicates counted).
 */
export function turnNumbersToGet(numbers: readonly number[]): number[] {
  if (!Array.isArray(numbers)) throw new TypeError('getTurns: numbers must be an array of turn numbers');
  if (numbers.length > MAX_GET_TURNS) {
    throw new TypeError(`getTurns: ${numbers.length} numbers exceed the ${MAX_GET_TURNS} one call takes`);
  }
  const wanted = new Set<number>();
  for (const n of numbers) if (Number.isSafeInteger(n) && n > 0) wanted.add(n);
  return [...wanted].sort((a, b) => a - b);
}

/** A subject other than the owner who takes part in a conversation. */
export interface ParticipantRecord {
  subject: string;
  /** Who invited them: the owner's subject, or `admin:<subject>` for a tenant admin. */
  addedBy: string;
  addedAt: string;
}

/** A feature flag: on for a tenant when `enabled` and (the tenant is listed, or its stable hash falls under `percent`). */
export interface FlagRecord {
  name: string;
  enabled: boolean;
  /** Tenants it is on for regardless of `percent`. */
  tenants: string[];
  /** 0–100: share of the other tenants it is on for, by a stable hash of the tenant id. */
  percent: number;
  updatedAt: string;
}

/** Derived per-conversation state: profile, rolling summary and where they stand. */
export interface ContextStateRecord {
  version: number;
  /** The last turn the state has taken in. */
  throughTurn: number;
  /** Sealed JSON. */
  state: Uint8Array;
  updatedAt: string;
}

/** One event of a conversation's SSE stream; ids sort as text. */
export interface StreamEventRecord {
  id: string;
  event: string;
  /** Sealed event data. */
  data: Uint8Array;
}

/** The head of a tenant's audit chain. */
export interface AuditHead {
  seq: number;
  hash: string;
}

/**
 * Audit events a mutating call writes in the same transaction as its change
 * (ADR-007): `events` sees the call's outcome, so a refused write is audited
 * as such. The store calls `events` exactly once per call, with the events
 * stamped `at`; if it throws (or a call throws), neither change nor events are written.
 */
export interface AuditBatch<O> {
  at: Date;
  events(outcome: O): AuditEventInput[];
}

export interface SigningKeyRecord {
  kid: string;
  alg: 'EdDSA';
  /** JWK JSON of the private key. */
  privateJwk: string;
  publicJwk: string;
  createdAt: string;
  retiredAt: string | null;
}

export interface TenantRecord {
  id: TenantId;
  name: string;
  createdAt: string;
}

export interface ApiKeyRecord {
  id: string;
  tenantId: TenantId;
  /** SHA-256 hex of the key; the key itself is never stored. */
  hash: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface RefreshFamilyRecord {
  id: string;
  tenantId: TenantId;
  subject: string;
  scope: Scope;
  createdAtMs: number;
  /** Absolute end of the family, whatever its tokens say. */
  expiresAtMs: number;
  revokedAtMs: number | null;
  revokedReason: string | null;
}

export interface RefreshTokenRecord {
  hash: string;
  familyId: string;
  createdAtMs: number;
  expiresAtMs: number;
}

export type RotateOutcome =
  | { kind: 'rotated'; family: RefreshFamilyRecord }
  | { kind: 'reused'; family: RefreshFamilyRecord }
  | { kind: 'revoked' | 'expired' | 'not_found' };

export type ConversationStatus = 'open' | 'closed';

export interface NewConversation {
  id: ConversationId;
  subject: string;
  title: string | null;
  metadata: Record<string, unknown> | null;
  clientKey: string;
  startedAt: string;
  createdAt: string;
  /** Hash that turn 1 chains from. */
  genesisHash: string;
}

export interface ConversationRecord extends NewConversation {
  tenantId: TenantId;
  turn: number;
  headHash: string;
  status: ConversationStatus;
  closedAt: string | null;
}

export interface ListConversationsQuery {
  /** Only this subject's conversations (scope `conversations`). */
  subject?: string;
  limit: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface TurnRecord {
  conversationId: ConversationId;
  number: number;
  role: Role;
  /** Stored bytes of the content (sealed by the service before it reaches the store). */
  content: Uint8Array;
  createdAt: string;
  prevHash: string;
  hash: string;
}

export interface AppendTurnRequest {
  conversationId: ConversationId;
  expectedTurn: number;
  /** Build the turn once the store knows it may write `number` after `prevHash`. */
  build(number: number, prevHash: string): TurnRecord;
  idempotency?: { key: string; requestHash: string; createdAt: string };
  /** How many missed turns to return on conflict. */
  missedLimit: number;
}

export type AppendOutcome =
  | { kind: 'appended'; turn: TurnRecord; conversation: ConversationRecord }
  | { kind: 'replayed'; turnNumber: number; conversation: ConversationRecord }
  | { kind: 'conflict'; currentTurn: number; missed: TurnRecord[] }
  | { kind: 'idempotency_mismatch' }
  | { kind: 'closed' }
  | { kind: 'not_found' };
