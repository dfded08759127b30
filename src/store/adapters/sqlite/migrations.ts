/**
 * Append-only migrations: the index + 1 is the schema version stored in
 * `PRAGMA user_version`. Never edit a shipped entry; add a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: core tables
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;

  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    private_jwk TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT
  ) STRICT;

  -- Per-tenant data keys, stored only wrapped by a master key (ADR-008).
  CREATE TABLE data_keys (
    tenant_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    master_key_id TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, version)
  ) STRICT;

  CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE api_keys (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    PRIMARY KEY (tenant_id, id)
  ) STRICT;

  CREATE TABLE refresh_families (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER,
    revoked_reason TEXT,
    PRIMARY KEY (tenant_id, id)
  ) STRICT;

  CREATE TABLE refresh_tokens (
    tenant_id TEXT NOT NULL,
    hash TEXT NOT NULL,
    family_id TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms INTEGER,
    PRIMARY KEY (tenant_id, hash)
  ) STRICT;

  CREATE TABLE conversations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    title TEXT,
    metadata TEXT,
    client_key TEXT NOT NULL,
    started_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    genesis_hash TEXT NOT NULL,
    turn INTEGER NOT NULL DEFAULT 0,
    head_hash TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    closed_at TEXT
  ) STRICT;
  CREATE INDEX conversations_by_subject ON conversations (tenant_id, subject, seq);
  CREATE INDEX conversations_by_tenant ON conversations (tenant_id, seq);

  -- (conversation_id, number) is the primary key: of two racing writers of
  -- the same turn number exactly one can commit.
  CREATE TABLE turns (
    conversation_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    tenant_id TEXT NOT NULL,
    role TEXT NOT NULL,
    content BLOB NOT NULL,
    created_at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (conversation_id, number)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE idempotency_keys (
    conversation_id TEXT NOT NULL,
    key TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    turn_number INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, key)
  ) STRICT, WITHOUT ROWID;
  `,
  // 2: the audit trail (ADR-007): a per-tenant hash chain the database refuses to change
  `
  CREATE TABLE audit_events (
    tenant_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT,
    outcome TEXT NOT NULL,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX audit_events_by_resource ON audit_events (tenant_id, resource_id, seq);

  CREATE TABLE audit_checkpoints (
    tenant_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    at TEXT NOT NULL,
    kid TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
  ) STRICT, WITHOUT ROWID;

  CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
  CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
  CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
  CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
  `,
  // 3: working context (ADR-004): derived state kept per conversation, sealed like turns
  `
  CREATE TABLE conversation_context (
    conversation_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    through_turn INTEGER NOT NULL,
    state BLOB NOT NULL,
    updated_at TEXT NOT NULL
  ) STRICT, WITHOUT ROWID;
  `,
  // 4: the replay buffer behind resumable SSE (ADR-005); event data is sealed by the service
  `
  CREATE TABLE stream_events (
    conversation_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    event TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id, event_id)
  ) STRICT, WITHOUT ROWID;
  `,
  // 5: participants of collaborative conversations, and feature flags shared by every node
  `
  CREATE TABLE participants (
    tenant_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, conversation_id, subject)
  ) STRICT, WITHOUT ROWID;

  -- tenants: a JSON array of tenant ids.
  CREATE TABLE flags (
    name TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    tenants TEXT NOT NULL,
    percent REAL NOT NULL CHECK (percent BETWEEN 0 AND 100),
    updated_at TEXT NOT NULL
  ) STRICT, WITHOUT ROWID;
  `,
];
