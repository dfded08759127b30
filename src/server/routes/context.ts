import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { conversationEvent, subjectActor } from '../../audit/events.ts';
import type { WorkingContext } from '../../context/context-service.ts';
import { AppError } from '../../errors/index.ts';
import { principalOf } from '../plugins/auth.ts';
import * as S from '../schemas.ts';
import type { Services } from '../services.ts';

const security = [{ bearerAuth: [] }];

const ContextQuery = Type.Object(
  { q: Type.Optional(Type.String({ maxLength: 4000 })) },
  { additionalProperties: false },
);
const SearchQuery = Type.Object(
  { q: Type.String({ minLength: 1, maxLength: 1000 }), limit: Type.Integer({ minimum: 1, maximum: 50, default: 10 }) },
  { additionalProperties: false },
);
const FACT_KINDS = [
  'medication',
  'allergy',
  'condition',
  'procedure',
  'person',
  'date',
  'preference',
  'entity',
] as const;
const FactValue = Type.Union([
  Type.String({ maxLength: 500 }),
  Type.Boolean(),
  Type.Array(Type.String({ maxLength: 200 }), { maxItems: 20 }),
]);
const ProfilePatch = Type.Object(
  {
    op: Type.Union([Type.Literal('confirm'), Type.Literal('correct'), Type.Literal('retract')]),
    fact: Type.Object(
      {
        kind: Type.Union(FACT_KINDS.map((kind) => Type.Literal(kind))),
        id: Type.Optional(Type.String({ maxLength: 200 })),
      },
      { additionalProperties: FactValue, maxProperties: 16 },
    ),
  },
  { additionalProperties: false },
);
const ScoredTurn = Type.Intersect([S.Turn, Type.Object({ score: Type.Number() })]);

/** `GET …/context`, `GET …/profile`, `GET …/search`, `PATCH …/profile` (ADR-004). */
export function registerContextRoutes(app: FastifyInstance, services: Services): void {
  const { conversations, context, audit, auth } = services;
  const serialized = new WeakMap<WorkingContext, string>();

  app.get(
    '/v1/conversations/:id/context',
    {
      onRequest: auth.user,
      config: { audit: ['context.read'] },
      schema: {
        tags: ['context'],
        summary: 'What the model sees for the next turn: profile, rolling summary, recent and retrieved turns, tokens',
        security,
        params: S.ConversationParams,
        querystring: ContextQuery,
        response: { ...S.errors.common },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { id } = request.params as Static<typeof S.ConversationParams>;
      const { q } = request.query as Static<typeof ContextQuery>;
      const conversation = await conversations.open(principal, id, 'context.read');
      const built = await context.build(conversation, q);
      await audit.record(principal.tenantId, [
        conversationEvent('context.read', subjectActor(principal), conversation.id, 'success', {
          turn: conversation.turn,
          tokens: built.tokens,
        }),
      ]);
      // A built context is reused until the conversation changes: so is its JSON.
      let body = serialized.get(built);
      if (body === undefined) {
        body = JSON.stringify({
          profile: built.profile,
          profileOmitted: built.profileOmitted,
          summary: built.summary,
          recent: built.recent,
          retrieved: built.retrieved,
          tokens: built.tokens,
          budget: services.config.contextTokens,
          messages: built.prompt.messages.length,
        });
        serialized.set(built, body);
      }
      return reply.type('application/json; charset=utf-8').send(body);
    },
  );

  app.get(
    '/v1/conversations/:id/profile',
    {
      onRequest: auth.user,
      config: { audit: ['context.read'] },
      schema: {
        tags: ['context'],
        summary:
          'The whole clinical profile with provenance (the working context carries only the facts that fit its profile budget)',
        security,
        params: S.ConversationParams,
        response: { ...S.errors.common },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id } = request.params as Static<typeof S.ConversationParams>;
      const conversation = await conversations.open(principal, id, 'context.read');
      const profile = await context.profile(conversation);
      await audit.record(principal.tenantId, [
        conversationEvent('context.read', subjectActor(principal), conversation.id, 'success', {
          turn: conversation.turn,
          part: 'profile',
        }),
      ]);
      return { profile };
    },
  );

  app.get(
    '/v1/conversations/:id/search',
    {
      onRequest: auth.user,
      config: { audit: ['search.read'] },
      schema: {
        tags: ['context'],
        summary: "Turns of the conversation's whole history matching q, best first (BM25)",
        security,
        params: S.ConversationParams,
        querystring: SearchQuery,
        response: { 200: Type.Object({ items: Type.Array(ScoredTurn) }), ...S.errors.common },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id } = request.params as Static<typeof S.ConversationParams>;
      const { q, limit } = request.query as Static<typeof SearchQuery>;
      const conversation = await conversations.open(principal, id, 'search.read');
      const items = await context.search(conversation, q, limit);
      await audit.record(principal.tenantId, [
        conversationEvent('search.read', subjectActor(principal), conversation.id, 'success', { count: items.length }),
      ]);
      return { items };
    },
  );

  app.patch(
    '/v1/conversations/:id/profile',
    {
      onRequest: auth.user,
      config: { audit: ['turn.append', 'profile.update'] },
      schema: {
        tags: ['context'],
        summary:
          'Confirm, correct or retract a profile fact (admin token); recorded as a system turn in the history, wins over later extraction until a newer turn contradicts it',
        security,
        params: S.ConversationParams,
        body: ProfilePatch,
        response: { ...S.errors.withConflict },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      if (principal.scope !== 'admin') {
        throw new AppError(
          'insufficient_scope',
          'Profile corrections need a clinician or tenant admin token (scope admin)',
        );
      }
      const { id } = request.params as Static<typeof S.ConversationParams>;
      const { op, fact } = request.body as Static<typeof ProfilePatch>;
      const record = `Profile ${op}: ${fact.kind}${fact.id ? ` ${fact.id}` : ''}${describeFields(fact)}`;
      const atTurn = (await conversations.appendAtEnd(principal, id, 'system', record)).number;
      const conversation = await conversations.open(principal, id, 'profile.update');
      const actor = subjectActor(principal);
      const profile = await context.correct(
        conversation,
        op,
        fact,
        atTurn,
        audit.batch(principal.tenantId, (saved: boolean) =>
          saved
            ? [
                conversationEvent('profile.update', actor, conversation.id, 'success', {
                  op,
                  kind: fact.kind,
                  turn: atTurn,
                }),
              ]
            : [],
        ),
      );
      return { profile };
    },
  );
}

function describeFields(fact: Record<string, unknown>): string {
  const fields = Object.entries(fact).filter(([key]) => key !== 'kind' && key !== 'id');
  return fields.length === 0 ? '' : ` (${fields.map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(', ')})`;
}
