import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { conversationEvent, subjectActor } from '../../audit/events.ts';
import { parseLastEventId } from '../../streaming/sse.ts';
import { principalOf } from '../plugins/auth.ts';
import * as S from '../schemas.ts';
import type { Services } from '../services.ts';
import { openEventStream } from '../sse-replies.ts';

const EventsQuery = Type.Object(
  { lastEventId: Type.Optional(Type.String({ maxLength: 40 })) },
  { additionalProperties: false },
);

/** `GET /v1/conversations/{id}/events`: every event of the conversation as it happens (SSE), resumable. */
export function registerEventRoutes(app: FastifyInstance, services: Services): void {
  app.get(
    '/v1/conversations/:id/events',
    {
      onRequest: services.auth.user,
      config: { audit: ['turn.read'] },
      schema: {
        tags: ['conversations'],
        summary:
          'Follow a conversation live (SSE): turn, delta, done, error, escalation events, and reconnect when the server stops; Last-Event-ID (or ?lastEventId=) resumes exactly after it',
        security: [{ bearerAuth: [] }],
        params: S.ConversationParams,
        querystring: EventsQuery,
        response: { ...S.errors.common },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { id } = request.params as Static<typeof S.ConversationParams>;
      const query = request.query as Static<typeof EventsQuery>;
      const after = parseLastEventId(request.headers['last-event-id'] ?? query.lastEventId);
      const conversation = await services.conversations.open(principal, id, 'turn.read');
      await services.audit.record(principal.tenantId, [
        conversationEvent('turn.read', subjectActor(principal), conversation.id, 'success', {
          stream: true,
          after: after ?? '',
        }),
      ]);
      // The token was checked once, here: a stream outlives its access token; a reconnect needs a fresh one.
      const stream = openEventStream(services, request, reply, { after, endless: true });
      // Events another node stores reach this node's followers through the bus.
      const unfollow = services.sync.follow(principal.tenantId, conversation.id);
      const subscription = services.events.subscribe(principal.tenantId, conversation.id, after, {
        signal: stream.signal,
        onTruncated: (oldestId) => stream.comment(`events before ${oldestId} are no longer kept; replay starts there`),
      });
      try {
        for await (const event of subscription) stream.event(event);
      } catch (error) {
        request.log.error({ err: error }, 'event stream ended early');
      } finally {
        unfollow();
        subscription.close();
        stream.end();
      }
    },
  );
}
