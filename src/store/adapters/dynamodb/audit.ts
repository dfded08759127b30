import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditCheckpoint } from '../../../audit/checkpoint.ts';
import type { AuditEvent, AuditEventInput } from '../../../audit/event.ts';
import { asTenantId, type TenantId } from '../../../core/types.ts';
import type { AuditHead, Store } from '../../port.ts';
import type { AuditChains } from './audit-chain.ts';
import { conditionalWrite, type DynamoContext } from './client.ts';
import { GSI1, pad, partition } from './keys.ts';
import { AUDIT_ATTRS, CHECKPOINT_ATTRS, checkpointItem, toAuditEvent, toCheckpoint } from './mapping.ts';
import { queryItems } from './requests.ts';

/** The store methods over the audit chain and its signed checkpoints. */
export type AuditMethods = Pick<
  Store,
  | 'appendAudit'
  | 'auditHead'
  | 'listAuditEvents'
  | 'insertAuditCheckpoint'
  | 'listAuditCheckpoints'
  | 'listAuditTenants'
>;

/** Bind the audit methods to `ctx`. */
export function auditMethods(ctx: DynamoContext, chains: AuditChains): AuditMethods {
  return {
    async appendAudit(tenantId: TenantId, events: AuditEventInput[], at: Date): Promise<AuditHead | null> {
      if (events.length === 0) return chains.head(tenantId, 'appendAudit');
      const { head } = await chains.audited('appendAudit', tenantId, { at, events: () => events }, async () => ({
        outcome: undefined,
        writes: [],
      }));
      return head;
    },

    auditHead(tenantId: TenantId): Promise<AuditHead | null> {
      return chains.head(tenantId, 'auditHead');
    },

    async listAuditEvents(
      tenantId: TenantId,
      query: { afterSeq: number; limit: number; resourceId?: string },
    ): Promise<AuditEvent[]> {
      if (!(query.limit >= 1)) return [];
      const after = pad(Math.max(0, Math.floor(query.afterSeq)));
      const limit = Math.floor(query.limit);
      const items =
        query.resourceId === undefined
          ? await queryItems(ctx, 'listAuditEvents', {
              pk: partition.audit(tenantId),
              sk: { op: '>', value: after },
              attrs: AUDIT_ATTRS,
              limit,
            })
          : // By resource through the sparse GSI (eventually consistent, like any GSI read).
            await queryItems(ctx, 'listAuditEvents', {
              pk: partition.auditResource(tenantId, query.resourceId),
              sk: { op: '>', value: after },
              attrs: AUDIT_ATTRS,
              limit,
              index: { name: GSI1, pkAttr: 'GSI1PK', skAttr: 'GSI1SK' },
            });
      return items.map(toAuditEvent);
    },

    async insertAuditCheckpoint(cp: AuditCheckpoint): Promise<void> {
      // Append-only: a checkpoint already stored for this seq stays as it is.
      await conditionalWrite('insertAuditCheckpoint', () =>
        ctx.doc.send(
          new PutCommand({
            TableName: ctx.table,
            Item: checkpointItem(cp),
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        ),
      );
    },

    async listAuditCheckpoints(tenantId: TenantId): Promise<AuditCheckpoint[]> {
      const items = await queryItems(ctx, 'listAuditCheckpoints', {
        pk: partition.checkpoints(tenantId),
        attrs: CHECKPOINT_ATTRS,
      });
      return items.map(toCheckpoint);
    },

    async listAuditTenants(): Promise<TenantId[]> {
      const items = await queryItems(ctx, 'listAuditTenants', { pk: partition.auditTenants, attrs: ['SK'] });
      return items.map((item) => asTenantId(item.SK as string));
    },
  };
}
