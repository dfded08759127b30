import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ConversationId, TenantId } from '../../../core/types.ts';
import type { Store, StreamEventRecord } from '../../port.ts';
import { type DynamoContext, request } from './client.ts';
import { key, partition } from './keys.ts';
import { toBuffer } from './mapping.ts';
import { batchWriteItems, queryItems } from './requests.ts';

/** The store methods over the SSE replay buffer. */
export type StreamMethods = Pick<
  Store,
  'appendStreamEvent' | 'listStreamEvents' | 'lastStreamEventId' | 'pruneStreamEvents'
>;

/** Bind the replay-buffer methods to `ctx`. A conversation's events have a partition of their own, sorted by id. */
export function streamMethods(ctx: DynamoContext): StreamMethods {
  return {
    async appendStreamEvent(tenantId: TenantId, conversationId: ConversationId, event: StreamEventRecord) {
      if (typeof event.id !== 'string' || event.id === '')
        throw new TypeError('appendStreamEvent: id must be non-empty');
      // A duplicate id fails its condition and is refused (wrapped like any write failure).
      await request('appendStreamEvent', () =>
        ctx.doc.send(
          new PutCommand({
            TableName: ctx.table,
            Item: { ...key.streamEvent(tenantId, conversationId, event.id), event: event.event, data: event.data },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        ),
      );
    },

    async listStreamEvents(tenantId: TenantId, conversationId: ConversationId, afterId: string | null, limit: number) {
      if (!(limit >= 1)) return [];
      const items = await queryItems(ctx, 'listStreamEvents', {
        pk: partition.stream(tenantId, conversationId),
        ...(afterId === null || afterId === '' ? {} : { sk: { op: '>', value: afterId } as const }),
        attrs: ['SK', 'event', 'data'],
        limit: Math.floor(limit),
      });
      return items.map((item) => ({ id: item.SK as string, event: item.event as string, data: toBuffer(item.data) }));
    },

    async lastStreamEventId(tenantId: TenantId, conversationId: ConversationId) {
      const [last] = await queryItems(ctx, 'lastStreamEventId', {
        pk: partition.stream(tenantId, conversationId),
        attrs: ['SK'],
        limit: 1,
        forward: false,
      });
      return last === undefined ? null : (last.SK as string);
    },

    async pruneStreamEvents(tenantId: TenantId, conversationId: ConversationId, keepLast: number) {
      if (!Number.isInteger(keepLast) || keepLast < 1) throw new TypeError('pruneStreamEvents: keepLast must be >= 1');
      const newestFirst = await queryItems(ctx, 'pruneStreamEvents', {
        pk: partition.stream(tenantId, conversationId),
        attrs: ['PK', 'SK'],
        forward: false,
      });
      const doomed = newestFirst.slice(keepLast);
      await batchWriteItems(
        ctx,
        'pruneStreamEvents',
        doomed.map((item) => ({ DeleteRequest: { Key: { PK: item.PK as string, SK: item.SK as string } } })),
      );
    },
  };
}
