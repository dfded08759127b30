import type { AuditCheckpoint } from '../audit/checkpoint.ts';
import type { AuditEvent, AuditEventInput } from '../audit/event.ts';
import type { ConversationId, Role, Scope, TenantId } from '../core/types.ts';
import type { DataKeyRepository } from '../crypto/data-keys.ts';

/**
 * The Store port: everything Continuum keeps. Every call that touches tenant
 * data takes the tenant first, so no query can forget it. Adapters make each
 * mutating call atomic (one transaction, or one conditional write) and wrap
 * driver errors in `StoreError`.
 */
export interface Store extends DataKeyRepository {
  readonly kind: 'sqlite' | 'postgres' | 'dynamodb';
  /** Apply pending migrations; safe to run from several processes at once. */
  migrate(): Promise<{ from: number; to: number }>;
  /** Round trip proving the store answers (used by /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Server-wide secret by name; the first caller's value wins, every node reads the same one. */
  getOrCreateSecret(name: string, create: () => string): Promise<string>;

  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /** Add a signing key and retire `retireKid` (if given) in one step. */
  insertSigningKey(record: SigningKeyRecord, retireKid: string | null, audit: AuditBatch<void>): Promise<void>;

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
   * already spent revokes its whole family (reason `reuse`) and reports `reused`.
   */
  rotateRefreshToken(
    tenantId: TenantId,
    oldHash: string,
    next: Omit<RefreshTokenRecord, 'familyId'>,
    nowMs: number,
    audit: AuditBatch<RotateOutcome>,
  ): Promise<RotateOutcome>;
  getRefreshFamily(tenantId: TenantId, familyId: string): Promise<RefreshFamilyRecord | null>;
  /** Revoke the family `hash` belongs to; returns that family's id, or null if the token is unknown. */
  revokeRefreshFamilyOf(
    tenantId: TenantId,
    hash: string,
    reason: string,
    atMs: number,
    audit: AuditBatch<string | null>,
  ): Promise<string | null>;

  /** Insert, or return the existing row with the same id (the caller checks its owner). */
  createConversation(
    tenantId: TenantId,
    record: NewConversation,
    audit: AuditBatch<{ created: boolean; conversation: ConversationRecord }>,
  ): Promise<{ created: boolean; conversation: ConversationRecord }>;
  getConversation(tenantId: TenantId, id: ConversationId): Promise<ConversationRecord | null>;
  listConversations(tenantId: TenantId, query: ListConversationsQuery): Promise<Page<ConversationRecord>>;
  closeConversation(
    tenantId: TenantId,
    id: ConversationId,
    closedAt: string,
    audit: AuditBatch<ConversationRecord | null>,
  ): Promise<ConversationRecord | null>;

  /** Append one turn if the conversation is still at `expectedTurn` (ADR-003). */
  appendTurn(tenantId: TenantId, request: AppendTurnRequest, audit: AuditBatch<AppendOutcome>): Promise<AppendOutcome>;
  /** Turns with `number > after`, ascending, at most `limit`. */
  listTurns(tenantId: TenantId, id: ConversationId, after: number, limit: number): Promise<TurnRecord[]>;

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

  /** Store one stream event (data sealed by the caller); refuses a duplicate id. */
  appendStreamEvent(tenantId: TenantId, conversationId: ConversationId, event: StreamEventRecord): Promise<void>;
  /** Events with an id greater than `afterId` (all when null), oldest first. */
  listStreamEvents(
    tenantId: TenantId,
    conversationId: ConversationId,
    afterId: string | null,
    limit: number,
  ): Promise<StreamEventRecord[]>;
  lastStreamEventId(tenantId: TenantId, conversationId: ConversationId): Promise<string | null>;
  /** Delete all but the newest `keepLast` events of the conversation. */
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
  insertAuditCheckpoint(checkpoint: AuditCheckpoint): Promise<void>;
  listAuditCheckpoints(tenantId: TenantId): Promise<AuditCheckpoint[]>;
  /** Every tenant id that has an audit chain (including the system chain). */
  listAuditTenants(): Promise<TenantId[]>;
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
 * as such.
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
