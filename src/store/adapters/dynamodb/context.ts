import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ConversationId, TenantId } from '../../../core/types.ts';
import type { AuditBatch, ContextStateRecord, Store } from '../../port.ts';
import type { AuditChains, Plan } from './audit-chain.ts';
import { conditionalWrite, type DynamoContext } from './client.ts';
import { Expression } from './expression.ts';
import { key } from './keys.ts';
import { toBuffer } from './mapping.ts';
import { getItem, type Item, putAction } from './requests.ts';

/** The store methods over working-context state. */
export type ContextMethods = Pick<Store, 'getContextState' | 'putContextState'>;

/** Bind the working-context methods to `ctx`. */
export function contextMethods(ctx: DynamoContext, chains: AuditChains): ContextMethods {
  const item = (tenantId: string, conversationId: string, next: ContextStateRecord): Item => ({
    ...key.context(tenantId, conversationId),
    version: next.version,
    throughTurn: next.throughTurn,
    state: next.state,
    updatedAt: next.updatedAt,
  });
  // The stored version must still be the expected one (or, for null, there must be none).
  const expected = (version: number | null) => (e: Expression) =>
    version === null ? `attribute_not_exists(${e.name('PK')})` : `${e.name('version')} = ${e.value(version)}`;

  return {
    async getContextState(tenantId: TenantId, conversationId: ConversationId): Promise<ContextStateRecord | null> {
      const found = await getItem(ctx, 'getContextState', key.context(tenantId, conversationId), [
        'version',
        'throughTurn',
        'state',
        'updatedAt',
      ]);
      if (found === undefined) return null;
      return {
        version: found.version as number,
        throughTurn: found.throughTurn as number,
        state: toBuffer(found.state),
        updatedAt: found.updatedAt as string,
      };
    },

    async putContextState(
      tenantId: TenantId,
      conversationId: ConversationId,
      next: ContextStateRecord,
      expectedVersion: number | null,
      audit?: AuditBatch<boolean>,
    ): Promise<boolean> {
      if (audit === undefined) {
        const e = new Expression();
        const condition = expected(expectedVersion)(e);
        return conditionalWrite('putContextState', () =>
          ctx.doc.send(
            new PutCommand({
              TableName: ctx.table,
              Item: item(tenantId, conversationId, next),
              ConditionExpression: condition,
              ...e.attributes(),
            }),
          ),
        );
      }
      const { outcome } = await chains.audited('putContextState', tenantId, audit, async (): Promise<Plan<boolean>> => {
        const stored = await getItem(ctx, 'putContextState', key.context(tenantId, conversationId), ['version']);
        const current = stored === undefined ? null : (stored.version as number);
        if (current !== expectedVersion) return { outcome: false, writes: [] };
        const action = putAction(ctx.table, item(tenantId, conversationId, next), expected(expectedVersion));
        return { outcome: true, writes: [{ action }] };
      });
      return outcome;
    },
  };
}
