import type { ConversationId, TenantId } from '../../../core/types.ts';
import type { AuditBatch, ContextStateRecord, Store } from '../../port.ts';
import type { SqliteConnection } from './connection.ts';

/** The store methods over working-context state. */
export type ContextMethods = Pick<Store, 'getContextState' | 'putContextState'>;

interface ContextRow {
  version: number;
  through_turn: number;
  state: Buffer;
  updated_at: string;
}

/** Bind the working-context methods to `conn`. */
export function contextMethods(conn: SqliteConnection): ContextMethods {
  const q = () => conn.queries;
  return {
    async getContextState(tenantId: TenantId, conversationId: ConversationId): Promise<ContextStateRecord | null> {
      const row = conn.read('getContextState', () => q().getContext.get(tenantId, conversationId)) as
        | ContextRow
        | undefined;
      return row
        ? { version: row.version, throughTurn: row.through_turn, state: row.state, updatedAt: row.updated_at }
        : null;
    },
    async putContextState(
      tenantId: TenantId,
      conversationId: ConversationId,
      next: ContextStateRecord,
      expectedVersion: number | null,
      audit?: AuditBatch<boolean>,
    ): Promise<boolean> {
      const put = () =>
        (expectedVersion === null
          ? q().insertContext.run(conversationId, tenantId, next.version, next.throughTurn, next.state, next.updatedAt)
          : q().updateContext.run(
              next.version,
              next.throughTurn,
              next.state,
              next.updatedAt,
              tenantId,
              conversationId,
              expectedVersion,
            )
        ).changes === 1;
      return audit === undefined
        ? conn.write('putContextState', put)
        : conn.audited('putContextState', tenantId, audit, put);
    },
  };
}
