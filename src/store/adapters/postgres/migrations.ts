import { type PgConnection, quoteIdent } from './pool.ts';

/**
 * Append-only migrations: the index + 1 is the schema version recorded in
 * `schema_migrations`. Never edit a shipped entry; add a new one. Names are
 * unqualified: every connection's `search_path` is the store's schema.
 *
 * Identifiers and ISO timestamps are `COLLATE "C"` so they sort by code point,
 * as the other stores sort them (stream event ids must sort as plain text).
 */
export const MIGRATIONS: readonly string[] = [
  // 1: core tables
  `
  CREATE TABLE meta (
    key TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE signing_keys (
    kid TEXT COLLATE "C" PRIMARY KEY,
    alg TEXT NOT NULL,
    private_jwk TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    retired_at TEXT
  );

  -- Per-tenant data keys, stored only wrapped by a master key (ADR-008).
  CREATE TABLE data_keys (
    tenant_id TEXT COLLATE "C" NOT NULL,
    version INTEGER NOT NULL,
    master_key_id TEXT NOT NULL,
    wrapped BYTEA NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, version)
  );

  CREATE TABLE tenants (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL
  );

  CREATE TABLE api_keys (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    id TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL,
    revoked_at TEXT,
    PRIMARY KEY (tenant_id, id)
  );

  CREATE TABLE refresh_families (
    tenant_id TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT,
    revoked_reason TEXT,
    PRIMARY KEY (tenant_id, id)
  );

  CREATE TABLE refresh_tokens (
    tenant_id TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL,
    family_id TEXT COLLATE "C" NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    used_at_ms BIGINT,
    PRIMARY KEY (tenant_id, hash)
  );

  -- seq orders listings (newest first) and backs their cursors.
  CREATE TABLE conversations (
    id TEXT COLLATE "C" PRIMARY KEY,
    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    tenant_id TEXT COLLATE "C" NOT NULL,
    subject TEXT COLLATE "C" NOT NULL,
    title TEXT,
    metadata TEXT,
    client_key TEXT NOT NULL,
    started_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    genesis_hash TEXT NOT NULL,
    turn INTEGER NOT NULL DEFAULT 0,
    head_hash TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    closed_at TEXT
  );
  CREATE INDEX conversations_by_subject ON conversations (tenant_id, subject, seq);
  CREATE INDEX conversations_by_tenant ON conversations (tenant_id, seq);

  -- (conversation_id, number) is the primary key: of two racing writers of
  -- the same turn number exactly one can commit.
  CREATE TABLE turns (
    conversation_id TEXT COLLATE "C" NOT NULL,
    number INTEGER NOT NULL,
    tenant_id TEXT COLLATE "C" NOT NULL,
    role TEXT NOT NULL,
    content BYTEA NOT NULL,
    created_at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (conversation_id, number)
  );

  CREATE TABLE idempotency_keys (
    conversation_id TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    tenant_id TEXT COLLATE "C" NOT NULL,
    request_hash TEXT NOT NULL,
    turn_number INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, key)
  );
  `,
  // 2: the audit trail (ADR-007): a per-tenant hash chain the database refuses to change
  `
  CREATE TABLE audit_events (
    tenant_id TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT COLLATE "C",
    outcome TEXT NOT NULL,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
  );
  CREATE INDEX audit_events_by_resource ON audit_events (tenant_id, resource_id, seq);

  -- One row per chain: locked by every append, so appends of a tenant queue
  -- in one order across all nodes. seq 0 is a chain with no event yet.
  CREATE TABLE audit_heads (
    tenant_id TEXT COLLATE "C" PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
  );

  CREATE TABLE audit_checkpoints (
    tenant_id TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    at TEXT NOT NULL,
    kid TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
  );

  CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END;
  $$;
  CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
  CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
  CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
  CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
  `,
  // 3: working context (ADR-004): derived state kept per conversation, sealed like turns
  `
  CREATE TABLE conversation_context (
    conversation_id TEXT COLLATE "C" PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL,
    version INTEGER NOT NULL,
    through_turn INTEGER NOT NULL,
    state BYTEA NOT NULL,
    updated_at TEXT NOT NULL
  );
  `,
  // 4: the replay buffer behind resumable SSE (ADR-005); event data is sealed by the service
  `
  CREATE TABLE stream_events (
    tenant_id TEXT COLLATE "C" NOT NULL,
    conversation_id TEXT COLLATE "C" NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    event TEXT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id, event_id)
  );
  `,
  // 5: participants of collaborative conversations, and feature flags shared by every node
  `
  CREATE TABLE participants (
    tenant_id TEXT COLLATE "C" NOT NULL,
    conversation_id TEXT COLLATE "C" NOT NULL,
    subject TEXT COLLATE "C" NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id, subject)
  );

  CREATE TABLE flags (
    name TEXT COLLATE "C" PRIMARY KEY,
    enabled BOOLEAN NOT NULL,
    tenants TEXT[] NOT NULL,
    percent DOUBLE PRECISION NOT NULL CHECK (percent BETWEEN 0 AND 100),
    updated_at TEXT NOT NULL
  );
  `,
];

// Lock class of the migration lock (the other key is the schema's hash), so
// stores of different schemas in one database migrate independently.
const MIGRATION_LOCK_CLASS = 0x636e_746d; // 'cntm'

/**
 * Apply pending migrations in one transaction under a transaction-level
 * advisory lock: processes migrating at once queue, and each later one finds
 * the work done. Creates the schema if it is missing.
 */
export function migrate(conn: PgConnection): Promise<{ from: number; to: number }> {
  const schema = quoteIdent(conn.schema);
  return conn.transaction(
    'migrate',
    async (query) => {
      await query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, conn.schema]);
      // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema exists.
      const found = await query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [conn.schema]);
      if (found.rowCount === 0) await query(`CREATE SCHEMA ${schema}`);
      await query(`SET LOCAL search_path TO ${schema}`);
      await query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
      const { rows } = await query<{ version: number }>(
        'SELECT COALESCE(max(version), 0)::integer AS version FROM schema_migrations',
      );
      const from = rows[0]?.version ?? 0;
      if (from > MIGRATIONS.length) {
        throw new TypeError(
          `PostgresStore: schema ${conn.schema} is at version ${from}, newer than this server knows (${MIGRATIONS.length}); upgrade the server`,
        );
      }
      for (let version = from; version < MIGRATIONS.length; version++) {
        await query(MIGRATIONS[version]!);
        await query('INSERT INTO schema_migrations (version) VALUES ($1)', [version + 1]);
      }
      return { from, to: MIGRATIONS.length };
    },
    { idempotent: true },
  );
}
