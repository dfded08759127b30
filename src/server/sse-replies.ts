import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.ts';
import type { TurnView } from '../conversations/views.ts';
import type { ConversationId } from '../core/types.ts';
import type { EarlyReply } from '../replies/reply-service.ts';
import { parseEventId } from '../streaming/event-id.ts';
import type { StoredEvent } from '../streaming/replay-store.ts';
import type { StreamPriority } from '../streaming/scheduler.ts';
import { createHeartbeat, formatComment, formatEvent, SSE_HEADERS } from '../streaming/sse.ts';
import { markEndless, trackBackground } from './drain.ts';
import type { Services } from './services.ts';

export const wantsEventStream = (request: FastifyRequest) =>
  (request.headers.accept ?? '').split(',').some((type) => type.trim().startsWith('text/event-stream'));

/** Reconnection delay the shutdown event asks clients for, in ms. */
export const RECONNECT_RETRY_MS = 1000;
/** Longest wait for an ended stream's last bytes to leave, on shutdown. */
const FLUSH_TIMEOUT_MS = 2000;

/** Open SSE responses per app; each ends itself, on shutdown with the resumable `reconnect` event. */
const openStreams = new WeakMap<object, Set<(restart: boolean) => Promise<void>>>();

/**
 * End every SSE response of `app` (on shutdown) with a `reconnect` event
 * whose `id` is the last event the client got, so it resumes exactly there
 * (on any node) with `Last-Event-ID`. Resolves once those bytes are out.
 */
export async function endOpenStreams(app: object): Promise<void> {
  await Promise.all([...(openStreams.get(app) ?? [])].map((end) => end(true)));
}

/**
 * An open SSE response: writes only while the client is there, keeps
 * proxies awake with heartbeats, and tells `signal` when the client leaves.
 * `after` is where the client resumed from; an `endless` stream (a follower)
 * is not waited for by a stopping app.
 */
export function openEventStream(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { after?: string | null; endless?: boolean } = {},
) {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { ...SSE_HEADERS, 'x-request-id': request.id });
  // The client learns at once that the stream is open, not at the first event or heartbeat.
  raw.flushHeaders();
  if (options.endless) markEndless(request);
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
  let lastId = options.after ?? null;
  const conversationId = (request.params as { id?: string }).id;
  const end = (restart: boolean): Promise<void> => {
    streams.delete(end);
    left.abort();
    if (raw.destroyed || raw.writableEnded) return Promise.resolve();
    if (restart) {
      write(
        formatEvent({
          ...(lastId === null ? {} : { id: lastId }),
          event: 'reconnect',
          retry: RECONNECT_RETRY_MS,
          data: JSON.stringify({
            reason: 'server_restarting',
            lastEventId: lastId,
            ...(conversationId === undefined ? {} : { resume: `/v1/conversations/${conversationId}/events` }),
          }),
        }),
      );
    }
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, FLUSH_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      raw.once('close', done);
      raw.end(done);
    });
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
      lastId = event.id;
      heartbeat.touch();
    },
    end() {
      heartbeat.stop();
      services.metrics.activeStreams.dec();
      void end(false);
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
  options: {
    principal: Principal;
    id: string;
    turn: TurnView;
    eventId: string;
    priority: StreamPriority;
    early?: EarlyReply;
  },
): Promise<void> {
  const { principal, id, turn, eventId } = options;
  const stream = openEventStream(services, request, reply);
  stream.event({ id: eventId, event: 'turn', data: JSON.stringify(turn) });
  const subscription = services.events.subscribe(principal.tenantId, id as ConversationId, eventId, {
    signal: stream.signal,
  });
  const replying = services.replies
    .respond(principal, id, turn, {
      priority: options.priority,
      ...(options.early === undefined ? {} : { early: options.early }),
      onQueued: (position) => stream.comment(`queued: position ${position}`),
    })
    .catch(() => {
      // Already in the event log as `event: error`, which this stream forwards.
    });
  // The reply goes on if the client leaves; a stopping server lets it finish (within its grace period).
  trackBackground(request, replying);
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
