import type Database from 'better-sqlite3';

/** Every statement the adapter runs, prepared once after migration. */
export function prepareQueries(db: Database.Database) {
  const conversationColumns =
    'seq, id, tenant_id, subject, title, metadata, client_key, started_at, created_at, genesis_hash, turn, head_hash, status, closed_at';
  const turnColumns = 'conversation_id, number, role, content, created_at, prev_hash, hash';
  return {
    insertMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),

    listSigningKeys: db.prepare(
      'SELECT kid, alg, private_jwk, public_jwk, created_at, retired_at FROM signing_keys ORDER BY created_at, kid',
    ),
    insertSigningKey: db.prepare(
      'INSERT INTO signing_keys (kid, alg, private_jwk, public_jwk, created_at, retired_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    retireSigningKey: db.prepare('UPDATE signing_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL'),

    listDataKeys: db.prepare(
      'SELECT tenant_id, version, master_key_id, wrapped, created_at FROM data_keys WHERE tenant_id = ?',
    ),
    insertDataKey: db.prepare(
      'INSERT INTO data_keys (tenant_id, version, master_key_id, wrapped, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    rewrapDataKey: db.prepare(
      'UPDATE data_keys SET master_key_id = ?, wrapped = ? WHERE tenant_id = ? AND version = ? AND master_key_id = ?',
    ),
    listTenantsWithDataKeys: db.prepare('SELECT DISTINCT tenant_id FROM data_keys ORDER BY tenant_id'),

    insertTenant: db.prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)'),
    getTenant: db.prepare('SELECT id, name, created_at FROM tenants WHERE id = ?'),
    getTenantByName: db.prepare('SELECT id FROM tenants WHERE name = ?'),
    insertApiKey: db.prepare(
      'INSERT INTO api_keys (tenant_id, id, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)',
    ),
    findApiKey: db.prepare(
      'SELECT tenant_id, id, hash, created_at, revoked_at FROM api_keys WHERE tenant_id = ? AND hash = ?',
    ),
    findApiKeyByHash: db.prepare('SELECT tenant_id FROM api_keys WHERE hash = ?'),
    listTenants: db.prepare('SELECT id, name, created_at FROM tenants ORDER BY created_at, id'),
    listApiKeys: db.prepare(
      'SELECT tenant_id, id, hash, created_at, revoked_at FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id',
    ),

    insertFamily: db.prepare(
      'INSERT INTO refresh_families (tenant_id, id, subject, scope, created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    getFamily: db.prepare(
      'SELECT tenant_id, id, subject, scope, created_at_ms, expires_at_ms, revoked_at_ms, revoked_reason FROM refresh_families WHERE tenant_id = ? AND id = ?',
    ),
    revokeFamily: db.prepare(
      'UPDATE refresh_families SET revoked_at_ms = ?, revoked_reason = ? WHERE tenant_id = ? AND id = ? AND revoked_at_ms IS NULL',
    ),
    insertRefreshToken: db.prepare(
      'INSERT INTO refresh_tokens (tenant_id, hash, family_id, created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?)',
    ),
    getRefreshToken: db.prepare(
      'SELECT family_id, expires_at_ms, used_at_ms FROM refresh_tokens WHERE tenant_id = ? AND hash = ?',
    ),
    spendRefreshToken: db.prepare(
      'UPDATE refresh_tokens SET used_at_ms = ? WHERE tenant_id = ? AND hash = ? AND used_at_ms IS NULL',
    ),

    insertConversation: db.prepare(
      `INSERT INTO conversations (id, tenant_id, subject, title, metadata, client_key, started_at, created_at, genesis_hash, head_hash)
       VALUES (@id, @tenant_id, @subject, @title, @metadata, @client_key, @started_at, @created_at, @genesis_hash, @genesis_hash)`,
    ),
    importConversation: db.prepare(
      `INSERT INTO conversations (id, tenant_id, subject, title, metadata, client_key, started_at, created_at, genesis_hash, turn, head_hash, status, closed_at)
       VALUES (@id, @tenant_id, @subject, @title, @metadata, @client_key, @started_at, @created_at, @genesis_hash, @turn, @head_hash, @status, @closed_at)`,
    ),
    getConversation: db.prepare(`SELECT ${conversationColumns} FROM conversations WHERE tenant_id = ? AND id = ?`),
    getConversationAnyTenant: db.prepare(`SELECT ${conversationColumns} FROM conversations WHERE id = ?`),
    listConversations: db.prepare(
      `SELECT ${conversationColumns} FROM conversations WHERE tenant_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
    ),
    listConversationsOfSubject: db.prepare(
      `SELECT ${conversationColumns} FROM conversations WHERE tenant_id = ? AND subject = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
    ),
    closeConversation: db.prepare(
      "UPDATE conversations SET status = 'closed', closed_at = ? WHERE tenant_id = ? AND id = ? AND status = 'open'",
    ),
    advanceConversation: db.prepare(
      'UPDATE conversations SET turn = ?, head_hash = ? WHERE tenant_id = ? AND id = ? AND turn = ?',
    ),

    insertTurn: db.prepare(
      `INSERT INTO turns (conversation_id, number, tenant_id, role, content, created_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    listTurns: db.prepare(
      `SELECT ${turnColumns} FROM turns WHERE conversation_id = ? AND number > ? ORDER BY number LIMIT ?`,
    ),
    listTurnsOfTenant: db.prepare(
      `SELECT ${turnColumns} FROM turns WHERE tenant_id = ? AND conversation_id = ? AND number > ? ORDER BY number LIMIT ?`,
    ),
    // The numbers arrive as one JSON array, so one statement serves every arity.
    getTurns: db.prepare(
      `SELECT ${turnColumns} FROM turns WHERE tenant_id = ? AND conversation_id = ?
       AND number IN (SELECT value FROM json_each(?)) ORDER BY number`,
    ),

    getContext: db.prepare(
      'SELECT version, through_turn, state, updated_at FROM conversation_context WHERE tenant_id = ? AND conversation_id = ?',
    ),
    insertContext: db.prepare(
      `INSERT INTO conversation_context (conversation_id, tenant_id, version, through_turn, state, updated_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    updateContext: db.prepare(
      `UPDATE conversation_context SET version = ?, through_turn = ?, state = ?, updated_at = ?
       WHERE tenant_id = ? AND conversation_id = ? AND version = ?`,
    ),

    insertStreamEvent: db.prepare(
      'INSERT INTO stream_events (conversation_id, event_id, tenant_id, event, data) VALUES (?, ?, ?, ?, ?)',
    ),
    listStreamEvents: db.prepare(
      'SELECT event_id, event, data FROM stream_events WHERE tenant_id = ? AND conversation_id = ? AND event_id > ? ORDER BY event_id LIMIT ?',
    ),
    lastStreamEventId: db.prepare(
      'SELECT event_id FROM stream_events WHERE tenant_id = ? AND conversation_id = ? ORDER BY event_id DESC LIMIT 1',
    ),
    pruneStreamEvents: db.prepare(
      `DELETE FROM stream_events WHERE tenant_id = ? AND conversation_id = ? AND event_id < (
         SELECT event_id FROM stream_events WHERE tenant_id = ? AND conversation_id = ? ORDER BY event_id DESC LIMIT 1 OFFSET ?
       )`,
    ),

    insertParticipant: db.prepare(
      `INSERT INTO participants (tenant_id, conversation_id, subject, added_by, added_at)
       VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    deleteParticipant: db.prepare(
      'DELETE FROM participants WHERE tenant_id = ? AND conversation_id = ? AND subject = ?',
    ),
    listParticipants: db.prepare(
      'SELECT subject, added_by, added_at FROM participants WHERE tenant_id = ? AND conversation_id = ? ORDER BY added_at, subject',
    ),
    getParticipant: db.prepare(
      'SELECT 1 AS found FROM participants WHERE tenant_id = ? AND conversation_id = ? AND subject = ?',
    ),

    listFlags: db.prepare('SELECT name, enabled, tenants, percent, updated_at FROM flags ORDER BY name'),
    putFlag: db.prepare(
      `INSERT INTO flags (name, enabled, tenants, percent, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled, tenants = excluded.tenants,
         percent = excluded.percent, updated_at = excluded.updated_at`,
    ),

    getIdempotency: db.prepare(
      'SELECT request_hash, turn_number FROM idempotency_keys WHERE conversation_id = ? AND key = ?',
    ),
    insertIdempotency: db.prepare(
      'INSERT INTO idempotency_keys (conversation_id, key, tenant_id, request_hash, turn_number, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
  };
}

export type Queries = ReturnType<typeof prepareQueries>;
