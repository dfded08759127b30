import type { ConversationId, TenantId } from '../../../core/types.ts';
import type { AuditBatch, ContextStateRecord, Store } from '../../port.ts';
import type { PgConnection, Query } from './pool.ts';

/** The store methods over working-context state. */
export type ContextMethods = Pick<Store, 'getContextState' | 'putContextState'>;

interface ContextRow {
  version: number;
  through_turn: number;
  state: Buffer;
  updated_at: string;
}

const GET = `SELECT version, through_turn, state, updated_at FROM conversation_context
  WHERE tenant_id = $1 AND conversation_id = $2`;
const INSERT = `INSERT INTO conversation_context (conversation_id, tenant_id, version, through_turn, state, updated_at)
  VALUES ($2, $1, $3, $4, $5, $6) ON CONFLICT DO NOTHING`;
const UPDATE = `UPDATE conversation_context SET version = $3, through_turn = $4, state = $5, updated_at = $6
  WHERE tenant_id = $1 AND conversation_id = $2 AND version = $7`;

/** Bind the working-context methods to `conn`. */
export function contextMethods(conn: PgConnection): ContextMethods {
  return {
    async getContextState(tenantId: TenantId, conversationId: ConversationId): Promise<ContextStateRecord | null> {
      const { rows } = await conn.run<ContextRow>('getContextState', GET, [tenantId, conversationId], {
        idempotent: true,
      });
      const row = rows[0];
      return row
        ? { version: row.version, throughTurn: row.through_turn, state: row.state, updatedAt: row.updated_at }
        : null;
    },

    // Not retried once COMMIT may have been applied: a repeat would report a lost race for a write that won.
    async putContextState(
      tenantId: TenantId,
      conversationId: ConversationId,
      next: ContextStateRecord,
      expectedVersion: number | null,
      audit?: AuditBatch<boolean>,
    ): Promise<boolean> {
      const values = [tenantId, conversationId, next.version, next.throughTurn, next.state, next.updatedAt];
      const [sql, params] = expectedVersion === null ? [INSERT, values] : [UPDATE, [...values, expectedVersion]];
      if (audit !== undefined) {
        return conn.audited(
          'putContextState',
          tenantId,
          audit,
          async (query: Query) => (await query(sql, params)).rowCount === 1,
        );
      }
      return (await conn.run('putContextState', sql, params)).rowCount === 1;
    },
  };
}
