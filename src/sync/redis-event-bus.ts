import { randomBytes } from 'node:crypto';
import { AppError } from '../errors/index.ts';
import type { ConversationEvent, EventBus, EventHandler } from './event-bus.ts';
import { RedisConnection } from './redis-connection.ts';

export interface RedisEventBusOptions {
  /** `redis://` or `rediss://` URL. */
  url: string;
  /** Prefix of every channel name, shared by all nodes of one deployment (default `continuum:`). */
  prefix?: string;
  /** Longest wait for Redis to accept a publish (default 250 ms). */
  commandTimeoutMs?: number;
  /** Longest wait for the probe's round trip (default 1000 ms). */
  probeTimeoutMs?: number;
  /** Told of connection losses (once per outage), each publish Redis did not take, and undecodable messages. */
  onError?: (error: unknown) => void;
  /** Told when a subscriber's handler throws; the handler is isolated from the others. */
  onHandlerError?: (error: unknown) => void;
}

/** The Redis bus, with what the app may want to show about its connections. */
export interface RedisEventBus extends EventBus {
  readonly kind: 'redis';
  /** True while both connections (publish and subscribe) are up. */
  readonly healthy: boolean;
  /** The error that took a connection down last, if any. */
  readonly lastError: Error | undefined;
  /** Resolve once Redis has confirmed every subscription made so far (tests publish after it). */
  subscribed(): Promise<void>;
}

/** What `onError` receives for a publish Redis did not take: the cause stays for the log. */
export function busUnavailable(operation: string, cause: unknown): AppError {
  return new AppError('internal', `The event bus failed during ${operation}`, { cause });
}

const keyOf = (tenantId: string, conversationId?: string) => `${tenantId}\u0000${conversationId ?? '*'}`;

/**
 * The EventBus across nodes, on Redis pub/sub: one channel per tenant
 * (`<prefix>events:<tenantId>`), one publishing and one subscribing
 * connection per node. Every event goes through Redis, including to
 * subscribers on the publishing node, so all nodes see one order: the
 * order in which Redis received the publishes (for one publisher, its
 * publish order).
 *
 * Fails fast when Redis is down: `publish` gives up within
 * `commandTimeoutMs` (at once when the connection is known to be lost),
 * reports the error to `onError` and resolves. The change it announced is
 * already committed and readable from the store, so a request never fails
 * because Redis is down; subscribers elsewhere miss that event, and the
 * app decides through `onError` what to log, count or alert. `probe()`
 * rejects meanwhile, so /readyz shows the outage. ioredis reconnects in
 * the background; the bus keeps its own list of wanted channels and
 * subscribes them again on every reconnect (ioredis's own resubscription
 * would miss channels first wanted during the outage), so delivery and
 * `probe()` recover without a restart.
 *
 * @example
 * const bus = createRedisEventBus({ url: 'redis://127.0.0.1:6379', onError: (e) => log.error(e) });
 * const off = bus.subscribe({ tenantId }, (event) => console.log(event.type));
 */
export function createRedisEventBus(options: RedisEventBusOptions): RedisEventBus {
  const prefix = options.prefix ?? 'continuum:';
  if (typeof prefix !== 'string') throw new TypeError('createRedisEventBus: prefix must be a string');
  const commandTimeoutMs = options.commandTimeoutMs ?? 250;
  const probeTimeoutMs = options.probeTimeoutMs ?? 1000;
  if (!(commandTimeoutMs > 0)) throw new TypeError('createRedisEventBus: commandTimeoutMs must be positive');
  if (!(probeTimeoutMs > 0)) throw new TypeError('createRedisEventBus: probeTimeoutMs must be positive');
  const report = (error: unknown) => options.onError?.(error);
  const publisher = new RedisConnection({
    url: options.url,
    name: `${prefix}publisher`,
    commandTimeoutMs,
    onError: report,
  });
  const subscriber = new RedisConnection({
    url: options.url,
    name: `${prefix}subscriber`,
    commandTimeoutMs,
    onError: report,
  });

  const eventsPrefix = `${prefix}events:`;
  const channelOf = (tenantId: string) => `${eventsPrefix}${tenantId}`;
  const probeChannel = `${prefix}probe:${randomBytes(8).toString('hex')}`;
  const handlers = new Map<string, Set<EventHandler>>();
  /** Subscribed handler sets per tenant: the channel is wanted while this is above 0. */
  const tenants = new Map<string, number>();
  const probes = new Map<string, () => void>();
  let lastSubscribe: Promise<unknown> = Promise.resolve();
  let closed = false;

  const command = (run: () => Promise<unknown>) => {
    if (!subscriber.healthy) return; // Restored on `ready`.
    const sent = run().catch((error) => {
      if (subscriber.healthy) report(error);
    });
    lastSubscribe = sent;
  };
  const wanted = () => [probeChannel, ...[...tenants.keys()].map(channelOf)];
  subscriber.client.on('ready', () => command(() => subscriber.client.subscribe(...wanted())));

  const deliver = (key: string, event: ConversationEvent) => {
    for (const handler of handlers.get(key) ?? []) {
      try {
        handler(event);
      } catch (error) {
        options.onHandlerError?.(error);
      }
    }
  };
  subscriber.client.on('message', (channel: string, message: string) => {
    if (channel === probeChannel) {
      probes.get(message)?.();
      return;
    }
    if (!channel.startsWith(eventsPrefix)) return;
    const tenantId = channel.slice(eventsPrefix.length);
    let event: ConversationEvent;
    try {
      event = JSON.parse(message) as ConversationEvent;
    } catch (error) {
      report(new Error(`undecodable event on ${channel}`, { cause: error }));
      return;
    }
    if (event?.tenantId !== tenantId || typeof event.conversationId !== 'string') {
      report(new Error(`event on ${channel} names another tenant or no conversation`));
      return;
    }
    deliver(keyOf(tenantId, event.conversationId), event);
    deliver(keyOf(tenantId), event);
  });

  return {
    kind: 'redis',
    get healthy() {
      return publisher.healthy && subscriber.healthy;
    },
    get lastError() {
      return publisher.lastError ?? subscriber.lastError;
    },
    async publish(event) {
      if (closed) throw new TypeError('RedisEventBus: publish after close');
      try {
        await publisher.ready(commandTimeoutMs);
        await publisher.client.publish(channelOf(event.tenantId), JSON.stringify(event));
      } catch (error) {
        report(busUnavailable('publish', error));
      }
    },
    subscribe(filter, handler) {
      const key = keyOf(filter.tenantId, filter.conversationId);
      let set = handlers.get(key);
      if (!set) {
        set = new Set();
        handlers.set(key, set);
        const count = tenants.get(filter.tenantId) ?? 0;
        tenants.set(filter.tenantId, count + 1);
        if (count === 0) command(() => subscriber.client.subscribe(channelOf(filter.tenantId)));
      }
      set.add(handler);
      return () => {
        if (!set.delete(handler) || set.size > 0 || handlers.get(key) !== set) return;
        handlers.delete(key);
        const count = (tenants.get(filter.tenantId) ?? 1) - 1;
        if (count > 0) {
          tenants.set(filter.tenantId, count);
          return;
        }
        tenants.delete(filter.tenantId);
        if (!closed) command(() => subscriber.client.unsubscribe(channelOf(filter.tenantId)));
      };
    },
    async subscribed() {
      await subscriber.ready(commandTimeoutMs);
      await lastSubscribe;
    },
    async probe() {
      if (closed) throw new Error('the Redis bus is closed');
      await Promise.all([publisher.ready(probeTimeoutMs), subscriber.ready(probeTimeoutMs)]);
      await lastSubscribe;
      const nonce = randomBytes(8).toString('hex');
      let timer: NodeJS.Timeout | undefined;
      const received = new Promise<void>((resolve, reject) => {
        probes.set(nonce, resolve);
        timer = setTimeout(
          () => reject(new Error(`the Redis bus probe made no round trip within ${probeTimeoutMs} ms`)),
          probeTimeoutMs,
        );
      });
      try {
        await publisher.client.publish(probeChannel, nonce);
        await received;
      } finally {
        clearTimeout(timer);
        probes.delete(nonce);
      }
    },
    async close() {
      closed = true;
      handlers.clear();
      tenants.clear();
      await Promise.all([publisher.close(), subscriber.close()]);
    },
  };
}
