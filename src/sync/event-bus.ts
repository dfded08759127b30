import type { ConversationId, Role, TenantId } from '../core/types.ts';

/** A committed change to a conversation. Carries no message text. */
export type ConversationEvent =
  | { type: 'conversation.created'; tenantId: TenantId; conversationId: ConversationId; at: string }
  | {
      type: 'turn.appended';
      tenantId: TenantId;
      conversationId: ConversationId;
      turn: number;
      role: Role;
      hash: string;
      at: string;
    }
  | { type: 'conversation.closed'; tenantId: TenantId; conversationId: ConversationId; turn: number; at: string }
  /** An event was stored in the conversation's event log by `node` (its data stays in the store, sealed). */
  | {
      type: 'stream.appended';
      tenantId: TenantId;
      conversationId: ConversationId;
      eventId: string;
      event: string;
      node: string;
    }
  /** The working context took turns in, through `throughTurn`. */
  | { type: 'context.updated'; tenantId: TenantId; conversationId: ConversationId; throughTurn: number; at: string }
  /** `subject` no longer takes part: its sync connections to the conversation close. */
  | {
      type: 'participant.removed';
      tenantId: TenantId;
      conversationId: ConversationId;
      subject: string;
      at: string;
    }
  /**
   * A sync connection of `subject` on `node` started (`joined`) or stopped (`left`) watching the
   * conversation; `present` answers a `presence.query`.
   */
  | {
      type: 'presence';
      tenantId: TenantId;
      conversationId: ConversationId;
      status: 'joined' | 'left' | 'present';
      subject: string;
      connection: string;
      node: string;
    }
  /** A node asks the others to announce who watches the conversation there. */
  | { type: 'presence.query'; tenantId: TenantId; conversationId: ConversationId; node: string }
  | {
      type: 'typing';
      tenantId: TenantId;
      conversationId: ConversationId;
      subject: string;
      connection: string;
      node: string;
    };

export type EventHandler = (event: ConversationEvent) => void;

/**
 * The EventBus port: every committed change is published here, in commit
 * order; streaming, sync and other nodes subscribe.
 */
export interface EventBus {
  readonly kind: 'memory' | 'redis';
  publish(event: ConversationEvent): Promise<void>;
  /** Subscribe to one conversation, or to a whole tenant when `conversationId` is omitted. */
  subscribe(filter: { tenantId: TenantId; conversationId?: ConversationId }, handler: EventHandler): () => void;
  /** Round trip proving delivery works (for /readyz). */
  probe(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The in-process bus: synchronous delivery in publish order. A handler that
 * throws is isolated from the publisher and from other handlers.
 *
 * @example
 * const bus = createMemoryEventBus();
 * const off = bus.subscribe({ tenantId }, (event) => console.log(event.type));
 */
export function createMemoryEventBus(options: { onHandlerError?: (error: unknown) => void } = {}): EventBus {
  const handlers = new Map<string, Set<EventHandler>>();
  const keyOf = (tenantId: string, conversationId?: string) => `${tenantId}\u0000${conversationId ?? '*'}`;
  const deliver = (key: string, event: ConversationEvent) => {
    for (const handler of handlers.get(key) ?? []) {
      try {
        handler(event);
      } catch (error) {
        options.onHandlerError?.(error);
      }
    }
  };
  return {
    kind: 'memory',
    async publish(event) {
      deliver(keyOf(event.tenantId, event.conversationId), event);
      deliver(keyOf(event.tenantId), event);
    },
    subscribe(filter, handler) {
      const key = keyOf(filter.tenantId, filter.conversationId);
      let set = handlers.get(key);
      if (!set) {
        set = new Set();
        handlers.set(key, set);
      }
      set.add(handler);
      return () => {
        set.delete(handler);
        if (set.size === 0) handlers.delete(key);
      };
    },
    async probe() {
      let received = false;
      const key = keyOf('tnt_probe', 'cnv_probe');
      const set = new Set<EventHandler>([
        () => {
          received = true;
        },
      ]);
      handlers.set(key, set);
      try {
        deliver(key, {
          type: 'conversation.created',
          tenantId: 'tnt_probe' as TenantId,
          conversationId: 'cnv_probe' as ConversationId,
          at: new Date(0).toISOString(),
        });
      } finally {
        handlers.delete(key);
      }
      if (!received) throw new Error('in-process bus did not deliver its probe');
    },
    async close() {
      handlers.clear();
    },
  };
}
