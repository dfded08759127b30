import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { AppError } from '../../errors/index.ts';
import { principalOf } from '../plugins/auth.ts';
import * as S from '../schemas.ts';
import type { Services } from '../services.ts';
import { streamReply, wantsEventStream } from '../sse-replies.ts';

const security = [{ bearerAuth: [] }];

/** Conversations and their turns (ADR-002, ADR-003). */
export function registerConversationRoutes(app: FastifyInstance, services: Services): void {
  const { conversations, auth, config, metrics } = services;
  const user = auth.user;

  app.post(
    '/v1/conversations',
    {
      config: { audit: ['conversation.create'] },
      onRequest: user,
      preValidation: async (request) => {
        // No body at all is an empty create; a JSON `null` is a body, and not an object.
        if (request.body === undefined) request.body = {};
      },
      schema: {
        tags: ['conversations'],
        summary: 'Create a conversation, or return the one with the same subject, clientKey and startedAt',
        security,
        body: S.CreateConversationRequest,
        response: { 200: S.Conversation, 201: S.Conversation, ...S.errors.withConflict },
      },
    },
    async (request, reply) => {
      const body = request.body as Static<typeof S.CreateConversationRequest>;
      const { created, conversation } = await conversations.create(principalOf(request), body);
      reply.header('etag', `"${conversation.turn}"`);
      return reply.status(created ? 201 : 200).send(conversation);
    },
  );

  app.get(
    '/v1/conversations',
    {
      config: { audit: ['conversation.list'] },
      onRequest: user,
      schema: {
        tags: ['conversations'],
        summary: 'List conversations, newest first (a subject sees its own; an admin token the whole tenant)',
        security,
        querystring: S.ListConversationsQuery,
        response: {
          200: Type.Object({ items: Type.Array(S.Conversation), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          ...S.errors.common,
        },
      },
    },
    async (request) => {
      const query = request.query as Static<typeof S.ListConversationsQuery>;
      return conversations.list(principalOf(request), query);
    },
  );

  app.get(
    '/v1/conversations/:id',
    {
      config: { audit: ['conversation.read'] },
      onRequest: user,
      schema: {
        tags: ['conversations'],
        summary: 'Get a conversation (its chain is verified on load); ETag is the turn number',
        security,
        params: S.ConversationParams,
        response: { 200: S.Conversation, ...S.errors.common },
      },
    },
    async (request, reply) => {
      const { id } = request.params as Static<typeof S.ConversationParams>;
      const conversation = await conversations.get(principalOf(request), id);
      reply.header('etag', `"${conversation.turn}"`);
      return conversation;
    },
  );

  app.post(
    '/v1/conversations/:id/close',
    {
      config: { audit: ['conversation.close'] },
      onRequest: user,
      schema: {
        tags: ['conversations'],
        summary: 'Close a conversation: it becomes read-only',
        security,
        params: S.ConversationParams,
        response: { 200: S.Conversation, ...S.errors.common },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof S.ConversationParams>;
      return conversations.close(principalOf(request), id);
    },
  );

  const AppendTurnRequest = S.appendTurnRequest(config.maxTurnChars);
  app.post(
    '/v1/conversations/:id/turns',
    {
      config: { audit: ['turn.append'] },
      onRequest: user,
      schema: {
        tags: ['conversations'],
        summary: 'Append a turn after expectedTurn (or If-Match); 409 turn_conflict carries the missed turns',
        security,
        params: S.ConversationParams,
        headers: S.AppendTurnHeaders,
        body: AppendTurnRequest,
        response: {
          201: Type.Object({ turn: S.Turn, reply: Type.Optional(S.Turn) }),
          ...S.errors.withConflict,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params as Static<typeof S.ConversationParams>;
      const body = request.body as Static<typeof AppendTurnRequest>;
      const headers = request.headers as Static<typeof S.AppendTurnHeaders>;
      const expectedTurn = resolveExpectedTurn(body.expectedTurn, headers['if-match']);
      const principal = principalOf(request);
      const priority = body.priority ?? 'normal';
      // With `respond`, the model is called before the turn is stored, so that its latency overlaps the
      // append; the early reply is used only for the turn stored after `expectedTurn`, cancelled otherwise.
      const early =
        body.respond === true
          ? await services.replies.begin(principal, id, { content: body.content, expectedTurn, priority })
          : undefined;
      try {
        const result = await conversations.append(principal, id, {
          role: body.role,
          content: body.content,
          expectedTurn,
          ...(headers['idempotency-key'] === undefined ? {} : { idempotencyKey: headers['idempotency-key'] }),
        });
        metrics.turns.inc({ outcome: result.replayed ? 'replayed' : 'appended' });
        if (result.replayed) reply.header('idempotent-replayed', 'true');
        reply.header('etag', `"${result.currentTurn}"`);
        if (body.respond !== true) return reply.status(201).send({ turn: result.turn });
        if (result.replayed) {
          early?.cancel();
          // A retried request never generates twice: answer with the reply stored after the turn, if any.
          const [next] = await conversations.listTurns(principal, id, result.turn.number, 1);
          return reply.status(201).send({ turn: result.turn, ...(next?.role === 'assistant' ? { reply: next } : {}) });
        }
        if (wantsEventStream(request) && result.eventId !== undefined) {
          return streamReply(services, request, reply, {
            principal,
            id,
            turn: result.turn,
            eventId: result.eventId,
            priority,
            ...(early === undefined ? {} : { early }),
          });
        }
        const stored = await services.replies.respond(principal, id, result.turn, {
          priority,
          ...(early === undefined ? {} : { early }),
        });
        return reply.status(201).send({ turn: result.turn, reply: stored });
      } catch (error) {
        early?.cancel();
        metrics.turns.inc({
          outcome: error instanceof AppError && error.code === 'turn_conflict' ? 'conflict' : 'rejected',
        });
        throw error;
      }
    },
  );

  app.get(
    '/v1/conversations/:id/turns',
    {
      config: { audit: ['turn.read'] },
      onRequest: user,
      schema: {
        tags: ['conversations'],
        summary: 'Turns after `after`, oldest first; each is checked against the hash chain',
        security,
        params: S.ConversationParams,
        querystring: S.ListTurnsQuery,
        response: { 200: Type.Object({ items: Type.Array(S.Turn) }), ...S.errors.common },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof S.ConversationParams>;
      const { after, limit } = request.query as Static<typeof S.ListTurnsQuery>;
      return { items: await conversations.listTurns(principalOf(request), id, after, limit) };
    },
  );
}

/** `expectedTurn` from the body or from `If-Match: "7"`; both must agree when both are given. */
function resolveExpectedTurn(fromBody: number | undefined, ifMatch: string | undefined): number {
  let fromHeader: number | undefined;
  if (ifMatch !== undefined) {
    const match = /^(?:W\/)?"(\d{1,15})"$/.exec(ifMatch.trim());
    if (!match) throw new AppError('invalid_request', 'If-Match must be an ETag of this API, like "7"');
    fromHeader = Number(match[1]);
  }
  if (fromBody !== undefined && fromHeader !== undefined && fromBody !== fromHeader) {
    throw new AppError('invalid_request', 'expectedTurn and If-Match disagree');
  }
  const expected = fromBody ?? fromHeader;
  if (expected === undefined)
    throw new AppError('invalid_request', 'Name the turn you expect to follow: expectedTurn or If-Match');
  return expected;
}
