import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { principalOf } from '../plugins/auth.ts';
import * as S from '../schemas.ts';
import type { Services } from '../services.ts';

const security = [{ bearerAuth: [] }];

const Participant = Type.Object({
  subject: Type.String(),
  addedBy: Type.String({ description: 'The owner’s subject, or `admin:<subject>` for an admin token of the tenant' }),
  addedAt: Type.String({ format: 'date-time' }),
});

const ParticipantList = Type.Object({
  conversationId: Type.String(),
  owner: Type.String({ description: 'The subject that created the conversation' }),
  items: Type.Array(Participant),
});

const AddParticipantRequest = Type.Object({ subject: S.Subject }, { additionalProperties: false });

const ParticipantParams = Type.Object({ id: Type.String({ maxLength: 64 }), subject: S.Subject });

/**
 * Collaborative conversations: `GET/POST /v1/conversations/{id}/participants`
 * and `DELETE /v1/conversations/{id}/participants/{subject}`. The owner or an
 * admin token of the tenant invites and removes; a participant may leave.
 */
export function registerParticipantRoutes(app: FastifyInstance, services: Services): void {
  const { participants, auth } = services;

  app.get(
    '/v1/conversations/:id/participants',
    {
      config: { audit: ['conversation.read'] },
      onRequest: auth.user,
      schema: {
        tags: ['conversations'],
        summary: 'The conversation’s owner and participants (anyone with access may list them)',
        security,
        params: S.ConversationParams,
        response: { 200: ParticipantList, ...S.errors.common },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof S.ConversationParams>;
      return participants.list(principalOf(request), id);
    },
  );

  app.post(
    '/v1/conversations/:id/participants',
    {
      config: { audit: ['participant.add'] },
      onRequest: auth.user,
      schema: {
        tags: ['conversations'],
        summary:
          'Invite a subject of the tenant (owner or admin token): it then reads and appends like the owner; 200 if it already takes part',
        security,
        params: S.ConversationParams,
        body: AddParticipantRequest,
        response: { 200: Participant, 201: Participant, 403: S.Problem, ...S.errors.common },
      },
    },
    async (request, reply) => {
      const { id } = request.params as Static<typeof S.ConversationParams>;
      const { subject } = request.body as Static<typeof AddParticipantRequest>;
      const { added, participant } = await participants.add(principalOf(request), id, subject);
      return reply.status(added ? 201 : 200).send(participant);
    },
  );

  app.delete(
    '/v1/conversations/:id/participants/:subject',
    {
      config: { audit: ['participant.remove'] },
      onRequest: auth.user,
      schema: {
        tags: ['conversations'],
        summary:
          'Remove a participant (owner or admin token), or leave (a participant removing itself); its sync connections close with 4004',
        security,
        params: ParticipantParams,
        response: { 204: Type.Null(), 403: S.Problem, ...S.errors.common },
      },
    },
    async (request, reply) => {
      const { id, subject } = request.params as Static<typeof ParticipantParams>;
      await participants.remove(principalOf(request), id, subject);
      return reply.status(204).send();
    },
  );
}
