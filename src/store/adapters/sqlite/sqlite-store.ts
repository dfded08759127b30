import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AuditCheckpoint } from '../../../audit/checkpoint.ts';
import type { AuditEvent, AuditEventInput } from '../../../audit/event.ts';
import { SYSTEM_TENANT as SYSTEM_CHAIN } from '../../../audit/event.ts';
import { dataKeyRewrapped } from '../../../audit/events.ts';
import { asTenantId, type ConversationId, type TenantId } from '../../../core/types.ts';
import type { DataKeyRecord } from '../../../crypto/data-keys.ts';
import { AppError } from '../../../errors/index.ts';
import { storeUnavailable } from '../../errors.ts';
import type {
  ApiKeyRecord,
  AppendOutcome,
  AppendTurnRequest,
  AuditBatch,
  AuditHead,
  ConversationRecord,
  ListConversationsQuery,
  NewConversation,
  Page,
  RefreshFamilyRecord,
  RefreshTokenRecord,
  RotateOutcome,
  SigningKeyRecord,
  Store,
  TenantRecord,
  TurnRecord,
} from '../../port.ts';
import { type AuditQueries, type AuditRow, prepareAuditQueries, toAuditEvent, toCheckpoint } from './audit-rows.ts';
import {
  type ConversationRow,
  decodeCursor,
  encodeCursor,
  type FamilyRow,
  type TurnRow,
  toApiKey,
  toConversation,
  toFamily,
  toSigningKey,
  toTenant,
  toTurn,
} from './mapping.ts';
import { MIGRATIONS } from './migrations.ts';
import { prepareQueries, type Queries } from './queries.ts';

export interface SqliteStoreOptions {
  /** Database file, or `:memory:`. */
  filename: string;
  /** `normal` survives kill -9 in WAL mode; `full` also survives power loss. */
  synchronous?: 'normal' | 'full';
  /** How long a writer waits for another process's lock, in ms. */
  busyTimeoutMs?: number;
}

/**
 * The embedded default store. One connection per process; several processes
 * may share the file (WAL, `BEGIN IMMEDIATE`, busy timeout).
 *
 * @example
 * const store = createSqliteStore({ filename: './data/continuum.db' });
 * await store.migrate();
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  if (typeof options.filename !== 'string' || options.filename === '') {
    throw new TypeError('createSqliteStore: filename is required');
  }
  return new SqliteStore(options);
}

class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  #queries: Queries | null = null;
  #auditQueries: AuditQueries | null = null;

  constructor(options: SqliteStoreOptions) {
    if (options.filename !== ':memory:') mkdirSync(path.dirname(path.resolve(options.filename)), { recursive: true });
    try {
      this.#db = new Database(options.filename);
      this.#db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      this.#db.pragma('foreign_keys = ON');
    } catch (error) {
      throw storeUnavailable('open', error);
    }
  }

  get #q(): Queries {
    if (this.#queries === null) throw new TypeError('SqliteStore: call migrate() before using the store');
    return this.#queries;
  }

  get #audit(): AuditQueries {
    if (this.#auditQueries === null) throw new TypeError('SqliteStore: call migrate() before using the store');
    return this.#auditQueries;
  }

  /** Run `fn` and write its audit events in one `BEGIN IMMEDIATE` transaction. */
  #audited<T>(operation: string, tenantId: string, audit: AuditBatch<T>, fn: () => T): T {
    return this.#write(operation, () => {
      const outcome = fn();
      this.#audit.append(tenantId, audit.events(outcome), audit.at);
      return outcome;
    });
  }

  /** Run `fn` in a `BEGIN IMMEDIATE` transaction, wrapping driver errors. */
  #write<T>(operation: string, fn: () => T): T {
    try {
      return this.#db.transaction(fn).immediate();
    } catch (error) {
      if (error instanceof AppError || error instanceof TypeError) throw error;
      throw storeUnavailable(operation, error);
    }
  }

  #read<T>(operation: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof AppError || error instanceof TypeError) throw error;
      throw storeUnavailable(operation, error);
    }
  }

  async migrate(): Promise<{ from: number; to: number }> {
    const result = this.#write('migrate', () => {
      const from = this.#db.pragma('user_version', { simple: true }) as number;
      for (let version = from; version < MIGRATIONS.length; version++) {
        this.#db.exec(MIGRATIONS[version]!);
        this.#db.pragma(`user_version = ${version + 1}`);
      }
      return { from, to: MIGRATIONS.length };
    });
    this.#queries = prepareQueries(this.#db);
    this.#auditQueries = prepareAuditQueries(this.#db);
    return result;
  }

  async ping(): Promise<void> {
    this.#read('ping', () => this.#db.prepare('SELECT 1').get());
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  async getOrCreateSecret(name: string, create: () => string): Promise<string> {
    return this.#write('getOrCreateSecret', () => {
      this.#q.insertMeta.run(name, create());
      return (this.#q.getMeta.get(name) as { value: string }).value;
    });
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.#read('listSigningKeys', () => this.#q.listSigningKeys.all().map((row) => toSigningKey(row as never)));
  }

  async insertSigningKey(record: SigningKeyRecord, retireKid: string | null, audit: AuditBatch<void>): Promise<void> {
    this.#audited('insertSigningKey', SYSTEM_CHAIN, audit, () => {
      this.#q.insertSigningKey.run(
        record.kid,
        record.alg,
        record.privateJwk,
        record.publicJwk,
        record.createdAt,
        record.retiredAt,
      );
      if (retireKid !== null) this.#q.retireSigningKey.run(record.createdAt, retireKid);
    });
  }

  async listDataKeys(tenantId: string): Promise<DataKeyRecord[]> {
    const rows = this.#read('listDataKeys', () => this.#q.listDataKeys.all(tenantId)) as {
      tenant_id: string;
      version: number;
      master_key_id: string;
      wrapped: Buffer;
      created_at: string;
    }[];
    return rows.map((row) => ({
      tenantId: row.tenant_id,
      version: row.version,
      masterKeyId: row.master_key_id,
      wrapped: row.wrapped,
      createdAt: row.created_at,
    }));
  }

  async insertDataKey(record: DataKeyRecord): Promise<boolean> {
    return this.#write(
      'insertDataKey',
      () =>
        this.#q.insertDataKey.run(record.tenantId, record.version, record.masterKeyId, record.wrapped, record.createdAt)
          .changes === 1,
    );
  }

  async rewrapDataKey(
    tenantId: string,
    version: number,
    expectedMasterKeyId: string,
    next: { masterKeyId: string; wrapped: Buffer },
  ): Promise<boolean> {
    return this.#write('rewrapDataKey', () => {
      const changed =
        this.#q.rewrapDataKey.run(next.masterKeyId, next.wrapped, tenantId, version, expectedMasterKeyId).changes === 1;
      if (changed) {
        this.#audit.append(tenantId, [dataKeyRewrapped(version, expectedMasterKeyId, next.masterKeyId)], new Date());
      }
      return changed;
    });
  }

  async listTenantsWithDataKeys(): Promise<string[]> {
    const rows = this.#read('listTenantsWithDataKeys', () => this.#q.listTenantsWithDataKeys.all()) as {
      tenant_id: string;
    }[];
    return rows.map((row) => row.tenant_id);
  }

  async createTenant(tenant: TenantRecord, apiKey: ApiKeyRecord, audit: AuditBatch<void>): Promise<void> {
    this.#audited('createTenant', tenant.id, audit, () => {
      if (this.#q.getTenantByName.get(tenant.name)) {
        throw new AppError('invalid_request', `A tenant named ${JSON.stringify(tenant.name)} already exists`);
      }
      this.#q.insertTenant.run(tenant.id, tenant.name, tenant.createdAt);
      this.#q.insertApiKey.run(apiKey.tenantId, apiKey.id, apiKey.hash, apiKey.createdAt, apiKey.revokedAt);
    });
  }

  async getTenant(tenantId: TenantId): Promise<TenantRecord | null> {
    const row = this.#read('getTenant', () => this.#q.getTenant.get(tenantId));
    return row ? toTenant(row as never) : null;
  }

  async findApiKey(tenantId: TenantId, hash: string): Promise<ApiKeyRecord | null> {
    const row = this.#read('findApiKey', () => this.#q.findApiKey.get(tenantId, hash));
    return row ? toApiKey(row as never) : null;
  }

  async createRefreshFamily(
    tenantId: TenantId,
    family: RefreshFamilyRecord,
    first: RefreshTokenRecord,
    audit: AuditBatch<void>,
  ): Promise<void> {
    this.#audited('createRefreshFamily', tenantId, audit, () => {
      this.#q.insertFamily.run(
        tenantId,
        family.id,
        family.subject,
        family.scope,
        family.createdAtMs,
        family.expiresAtMs,
      );
      this.#q.insertRefreshToken.run(tenantId, first.hash, family.id, first.createdAtMs, first.expiresAtMs);
    });
  }

  async rotateRefreshToken(
    tenantId: TenantId,
    oldHash: string,
    next: Omit<RefreshTokenRecord, 'familyId'>,
    nowMs: number,
    audit: AuditBatch<RotateOutcome>,
  ): Promise<RotateOutcome> {
    return this.#audited('rotateRefreshToken', tenantId, audit, (): RotateOutcome => {
      const token = this.#q.getRefreshToken.get(tenantId, oldHash) as
        | { family_id: string; expires_at_ms: number; used_at_ms: number | null }
        | undefined;
      if (!token) return { kind: 'not_found' };
      const familyRow = this.#q.getFamily.get(tenantId, token.family_id) as FamilyRow | undefined;
      if (!familyRow) return { kind: 'not_found' };
      const family = toFamily(familyRow);
      if (family.revokedAtMs !== null) return { kind: 'revoked' };
      if (token.used_at_ms !== null) {
        this.#q.revokeFamily.run(nowMs, 'reuse', tenantId, family.id);
        return { kind: 'reused', family: { ...family, revokedAtMs: nowMs, revokedReason: 'reuse' } };
      }
      if (token.expires_at_ms <= nowMs || family.expiresAtMs <= nowMs) return { kind: 'expired' };
      this.#q.spendRefreshToken.run(nowMs, tenantId, oldHash);
      const expiresAtMs = Math.min(next.expiresAtMs, family.expiresAtMs);
      this.#q.insertRefreshToken.run(tenantId, next.hash, family.id, next.createdAtMs, expiresAtMs);
      return { kind: 'rotated', family };
    });
  }

  async getRefreshFamily(tenantId: TenantId, familyId: string): Promise<RefreshFamilyRecord | null> {
    const row = this.#read('getRefreshFamily', () => this.#q.getFamily.get(tenantId, familyId));
    return row ? toFamily(row as FamilyRow) : null;
  }

  async revokeRefreshFamilyOf(
    tenantId: TenantId,
    hash: string,
    reason: string,
    atMs: number,
    audit: AuditBatch<string | null>,
  ): Promise<string | null> {
    return this.#audited('revokeRefreshFamilyOf', tenantId, audit, () => {
      const token = this.#q.getRefreshToken.get(tenantId, hash) as { family_id: string } | undefined;
      if (!token) return null;
      this.#q.revokeFamily.run(atMs, reason, tenantId, token.family_id);
      return token.family_id;
    });
  }

  async createConversation(
    tenantId: TenantId,
    record: NewConversation,
    audit: AuditBatch<{ created: boolean; conversation: ConversationRecord }>,
  ): Promise<{ created: boolean; conversation: ConversationRecord }> {
    return this.#audited('createConversation', tenantId, audit, () => {
      const existing = this.#q.getConversationAnyTenant.get(record.id) as ConversationRow | undefined;
      if (existing) return { created: false, conversation: toConversation(existing) };
      this.#q.insertConversation.run({
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
      const row = this.#q.getConversation.get(tenantId, record.id) as ConversationRow;
      return { created: true, conversation: toConversation(row) };
    });
  }

  async conversationOwner(id: ConversationId): Promise<{ tenantId: TenantId; subject: string } | null> {
    const row = this.#read('conversationOwner', () => this.#q.getConversationAnyTenant.get(id)) as
      | ConversationRow
      | undefined;
    return row ? { tenantId: toConversation(row).tenantId, subject: row.subject } : null;
  }

  async getConversation(tenantId: TenantId, id: ConversationId): Promise<ConversationRecord | null> {
    const row = this.#read('getConversation', () => this.#q.getConversation.get(tenantId, id));
    return row ? toConversation(row as ConversationRow) : null;
  }

  async listConversations(tenantId: TenantId, query: ListConversationsQuery): Promise<Page<ConversationRecord>> {
    let before = Number.MAX_SAFE_INTEGER;
    if (query.cursor !== undefined) {
      const decoded = decodeCursor(query.cursor);
      if (decoded === null) throw new AppError('invalid_request', 'cursor is not a cursor this server issued');
      before = decoded;
    }
    const rows = this.#read('listConversations', () =>
      query.subject === undefined
        ? this.#q.listConversations.all(tenantId, before, query.limit + 1)
        : this.#q.listConversationsOfSubject.all(tenantId, query.subject, before, query.limit + 1),
    ) as ConversationRow[];
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(toConversation),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last.seq) : null,
    };
  }

  async closeConversation(
    tenantId: TenantId,
    id: ConversationId,
    closedAt: string,
    audit: AuditBatch<ConversationRecord | null>,
  ): Promise<ConversationRecord | null> {
    return this.#audited('closeConversation', tenantId, audit, () => {
      this.#q.closeConversation.run(closedAt, tenantId, id);
      const row = this.#q.getConversation.get(tenantId, id) as ConversationRow | undefined;
      return row ? toConversation(row) : null;
    });
  }

  async appendTurn(
    tenantId: TenantId,
    request: AppendTurnRequest,
    audit: AuditBatch<AppendOutcome>,
  ): Promise<AppendOutcome> {
    return this.#audited('appendTurn', tenantId, audit, (): AppendOutcome => {
      const q = this.#q;
      const row = q.getConversation.get(tenantId, request.conversationId) as ConversationRow | undefined;
      if (!row) return { kind: 'not_found' };
      const conversation = toConversation(row);
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
        const missed = (q.listTurns.all(request.conversationId, request.expectedTurn, request.missedLimit) as TurnRow[])
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
  }

  async listTurns(tenantId: TenantId, id: ConversationId, after: number, limit: number): Promise<TurnRecord[]> {
    const rows = this.#read('listTurns', () => this.#q.listTurnsOfTenant.all(tenantId, id, after, limit)) as TurnRow[];
    return rows.map(toTurn);
  }

  async appendAudit(tenantId: TenantId, events: AuditEventInput[], at: Date): Promise<AuditHead | null> {
    return this.#write('appendAudit', () => this.#audit.append(tenantId, events, at));
  }

  async auditHead(tenantId: TenantId): Promise<AuditHead | null> {
    const row = this.#read('auditHead', () => this.#audit.head.get(tenantId)) as AuditHead | undefined;
    return row ?? null;
  }

  async listAuditEvents(
    tenantId: TenantId,
    query: { afterSeq: number; limit: number; resourceId?: string },
  ): Promise<AuditEvent[]> {
    const rows = this.#read('listAuditEvents', () =>
      query.resourceId === undefined
        ? this.#audit.list.all(tenantId, query.afterSeq, query.limit)
        : this.#audit.listForResource.all(tenantId, query.resourceId, query.afterSeq, query.limit),
    ) as AuditRow[];
    return rows.map(toAuditEvent);
  }

  async insertAuditCheckpoint(cp: AuditCheckpoint): Promise<void> {
    this.#write('insertAuditCheckpoint', () =>
      this.#audit.insertCheckpoint.run(cp.tenantId, cp.seq, cp.hash, cp.at, cp.kid, cp.signature),
    );
  }

  async listAuditCheckpoints(tenantId: TenantId): Promise<AuditCheckpoint[]> {
    const rows = this.#read('listAuditCheckpoints', () => this.#audit.listCheckpoints.all(tenantId));
    return (rows as Parameters<typeof toCheckpoint>[0][]).map(toCheckpoint);
  }

  async listAuditTenants(): Promise<TenantId[]> {
    const rows = this.#read('listAuditTenants', () => this.#audit.tenants.all()) as { tenant_id: string }[];
    return rows.map((row) => asTenantId(row.tenant_id));
  }
}
