import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.ts';
import type { TurnView } from '../conversations/views.ts';
import type { ConversationId } from '../core/types.ts';
import { parseEventId } from '../streaming/event-id.ts';
import type { StoredEvent } from '../streaming/replay-store.ts';
import type { StreamPriority } from '../streaming/scheduler.ts';
import { createHeartbeat, formatComment, formatEvent, SSE_HEADERS } from '../streaming/sse.ts';
import type { Services } from './services.ts';

export const wantsEventStream = (request: FastifyRequest) =>
  (request.headers.accept ?? '').split(',').some((type) => type.trim().startsWith('text/event-stream'));

/**
 * An open SSE response: writes only while the client is there, keeps
 * proxies awake with heartbeats, and tells `signal` when the client leaves.
 */
const openStreams = new WeakMap<object, Set<() => void>>();

/** End every SSE response of `app` (on shutdown): clients resume elsewhere with Last-Event-ID. */
export function endOpenStreams(app: object): void {
  for (const end of openStreams.get(app) ?? []) end();
}

export function openEventStream(services: Services, request: FastifyRequest, reply: FastifyReply) {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { ...SSE_HEADERS, 'x-request-id': request.id });
  const left = new AbortController();
  const write = (chunk: string) => {
    if (!raw.destroyed && !raw.writableEnded) raw.write(chunk);
  };
  const heartbeat = createHeartbeat({ send: write });
  services.metrics.activeStreams.inc();
  let streams = openStreams.get(request.server);
  if (!streams) {
    streams = new Set();
    openStreams.set(request.server, streams);
  }
  const end = () => {
    streams.delete(end);
    left.abort();
    if (!raw.writableEnded) raw.end();
  };
  streams.add(end);
  raw.on('close', () => {
    streams.delete(end);
    left.abort();
  });
  return {
    signal: left.signal,
    comment: (text: string) => write(formatComment(text)),
    event(event: StoredEvent) {
      write(formatEvent(event));
      heartbeat.touch();
    },
    end() {
      heartbeat.stop();
      services.metrics.activeStreams.dec();
      end();
    },
  };
}

/**
 * `respond: true` with `Accept: text/event-stream`: the stored user turn,
 * then the reply's events as the conversation's event log records them, so a
 * client that reconnects with `Last-Event-ID` (to `/events`, on any node)
 * gets exactly what it missed. The client leaving does not cancel the reply.
 */
export async function streamReply(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { principal: Principal; id: string; turn: TurnView; eventId: string; priority: StreamPriority },
): Promise<void> {
  const { principal, id, turn, eventId } = options;
  const stream = openEventStream(services, request, reply);
  stream.event({ id: eventId, event: 'turn', data: JSON.stringify(turn) });
  const subscription = services.events.subscribe(principal.tenantId, id as ConversationId, eventId, {
    signal: stream.signal,
  });
  services.replies
    .respond(principal, id, turn, {
      priority: options.priority,
      onQueued: (position) => stream.comment(`queued: position ${position}`),
    })
    .catch(() => {
      // Already in the event log as `event: error`, which this stream forwards.
    });
  try {
    for await (const event of subscription) {
      // Turn events (the stored reply among them) are for /events followers; this stream ends with `done`.
      if (event.event === 'turn') continue;
      const number = parseEventId(event.id)?.turn ?? 0;
      if (number < turn.number) continue;
      stream.event(event);
      if (event.event === 'done' || event.event === 'error') break;
    }
  } catch (error) {
    request.log.error({ err: error }, 'reply stream ended early');
  } finally {
    subscription.close();
    stream.end();
  }
}
