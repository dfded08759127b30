import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import type { RawData, WebSocket } from 'ws';
import { AppError } from '../../errors/index.ts';
import { SYNC_SUBPROTOCOL } from '../../sync/protocol.ts';
import { SyncSession, type SyncSessionDeps } from '../../sync/sync-session.ts';
import { markEndless } from '../drain.ts';
import * as S from '../schemas.ts';
import type { Services } from '../services.ts';

/** `ws` hands a message over as one Buffer (its default `binaryType`), fragments joined. */
const asBytes = (data: RawData): Buffer =>
  Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(new Uint8Array(data));

/**
 * `GET /v1/conversations/{id}/sync`: the sync protocol (`src/sync/protocol.ts`)
 * on a WebSocket. This binding only moves frames between `ws` and a
 * {@link SyncSession}; a plain GET without an upgrade is a 400.
 */
export async function registerSyncRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { config, sync: hub } = services;
  await app.register(websocket, {
    options: {
      // A frame is at most a request body; a larger one closes with 1009.
      maxPayload: config.bodyLimit,
      handleProtocols: (offered: Set<string>) => (offered.has(SYNC_SUBPROTOCOL) ? SYNC_SUBPROTOCOL : false),
    },
    // Instead of the plugin's plain close: every connection gets 1012 (reconnect elsewhere, resume with `after`).
    preClose: async () => {
      await hub.shutdown();
      app.websocketServer.close();
    },
    errorHandler: (error, socket, request) => {
      request.log.warn({ err: error }, 'sync socket error');
      // A protocol error (bad frame, too large) is already closing with its own code.
      if (socket.readyState === socket.OPEN) socket.terminate();
    },
  });

  const deps: Omit<SyncSessionDeps, 'log'> = {
    conversations: services.conversations,
    replies: services.replies,
    events: services.events,
    accessTokens: services.accessTokens,
    tokens: services.tokens,
    audit: services.audit,
    hub,
    clock: services.clock,
    metrics: services.metrics,
    isEnabled: (tenantId) => services.flags.isEnabled('sync', tenantId),
    settings: {
      sendBufferBytes: config.syncSendBufferBytes,
      maxFrameBytes: config.bodyLimit,
      maxTurnChars: config.maxTurnChars,
      clockToleranceSeconds: config.clockToleranceSeconds,
    },
  };

  app.route({
    method: 'GET',
    url: '/v1/conversations/:id/sync',
    config: { audit: ['turn.read'] },
    schema: {
      tags: ['conversations'],
      summary:
        'WebSocket sync: the conversation’s events pushed live on any node, appends, typing and presence (first frame: auth; see docs/SYNC.md)',
      params: S.ConversationParams,
      response: { ...S.errors.common },
    },
    handler: async () => {
      throw new AppError('invalid_request', 'This route speaks WebSocket: connect with an Upgrade request');
    },
    wsHandler: (socket: WebSocket, request) => {
      // A sync connection is endless: a stopping server closes it with 1012 rather than wait for it.
      markEndless(request);
      const { id } = request.params as Static<typeof S.ConversationParams>;
      const session = new SyncSession(
        { ...deps, log: request.log },
        {
          get bufferedAmount() {
            return socket.bufferedAmount;
          },
          send: (text) => socket.send(text, { binary: false }),
          close: (code, reason) => socket.close(code, reason),
          terminate: () => socket.terminate(),
          ping: () => socket.ping(),
        },
        { conversationId: id, ip: request.ip },
      );
      socket.on('message', (data: RawData, isBinary: boolean) =>
        session.receive(isBinary ? asBytes(data) : asBytes(data).toString()),
      );
      socket.on('pong', () => session.pong());
      socket.on('close', () => session.gone());
    },
  });
}
