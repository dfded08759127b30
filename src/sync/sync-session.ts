import { randomBytes } from 'node:crypto';
import { conversationEvent, subjectActor } from '../audit/events.ts';
import type { Principal } from '../auth/principal.ts';
import type { ConversationService } from '../conversations/conversation-service.ts';
import { asConversationId, type ConversationId, type TenantId } from '../core/types.ts';
import { AppError } from '../errors/index.ts';
import type { EventSubscription } from '../streaming/subscription.ts';
import { closeFor, REASON } from './close-policy.ts';
import { ephemeralFrame, errorFrame, eventFrameBytes, readyFrame, subscribedFrame, truncatedFrame } from './frames.ts';
import {
  AUTH_TIMEOUT_MS,
  type ClientFrame,
  type EphemeralEvent,
  MAX_PENDING_FRAMES,
  type ParsedFrame,
  parseClientFrame,
  SYNC_CLOSE,
  type SyncCloseCode,
  TYPING_INTERVAL_MS,
} from './protocol.ts';
import type { SyncSessionDeps, SyncSocket } from './session-deps.ts';
import { appendFromFrame } from './sync-append.ts';
import { verifySyncToken } from './sync-auth.ts';
import type { SyncMember } from './sync-hub.ts';

export type { SyncSessionDeps, SyncSettings, SyncSocket } from './session-deps.ts';

/**
 * One sync connection: authentication (first frame, re-authentication,
 * expiry against the injected clock), access to its conversation (mirroring
 * the HTTP rules, audited the same way), replay-then-live delivery of the
 * conversation's event log with a bounded send buffer, appends, typing and
 * presence through the {@link SyncHub}. Frames are handled one at a time, in
 * order.
 */
export class SyncSession implements SyncMember {
  readonly connection = `conn_${randomBytes(8).toString('hex')}`;
  readonly closed: Promise<void>;
  readonly #d: SyncSessionDeps;
  readonly #socket: SyncSocket;
  readonly #conversationId: ConversationId;
  readonly #ip: string;
  readonly #authTimer: NodeJS.Timeout;
  #resolveClosed!: () => void;
  #principal: Principal | undefined;
  #expiresAtMs = 0;
  #subscription: EventSubscription | undefined;
  #queue: Promise<void> = Promise.resolve();
  #pending = 0;
  #closing = false;
  #gone = false;
  #alive = true;
  #lastTyping = Number.NEGATIVE_INFINITY;

  constructor(deps: SyncSessionDeps, socket: SyncSocket, options: { conversationId: string; ip: string }) {
    this.#d = deps;
    this.#socket = socket;
    this.#conversationId = asConversationId(options.conversationId);
    this.#ip = options.ip;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    const timeout = deps.settings.authTimeoutMs ?? AUTH_TIMEOUT_MS;
    this.#authTimer = setTimeout(() => this.close(SYNC_CLOSE.unauthorized, REASON.authTimeout), timeout);
    if (!deps.hub.register(this)) this.close(SYNC_CLOSE.restarting, 'server restarting');
  }

  get tenantId(): TenantId {
    return this.#authenticated().tenantId;
  }

  get conversationId(): ConversationId {
    return this.#conversationId;
  }

  get subject(): string {
    return this.#authenticated().subject;
  }

  get admin(): boolean {
    return this.#authenticated().scope === 'admin';
  }

  /** A frame arrived from the client. */
  receive(data: string | Uint8Array): void {
    this.#alive = true;
    if (this.#closing) return;
    const parsed = parseClientFrame(data, this.#d.settings);
    if (!parsed.ok && parsed.problem.close !== undefined) {
      this.close(parsed.problem.close, parsed.problem.detail);
      return;
    }
    if (++this.#pending > MAX_PENDING_FRAMES) {
      this.close(SYNC_CLOSE.policy, REASON.flood);
      return;
    }
    this.#queue = this.#queue.then(() => this.#handle(parsed)).catch((error: unknown) => this.#failed(error));
  }

  /** The client answered a ping. */
  pong(): void {
    this.#alive = true;
  }

  /** The socket is closed (by either side): stop everything. */
  gone(): void {
    this.#closing = true;
    this.#gone = true;
    this.#cleanup();
    this.#d.hub.unregister(this);
    this.#resolveClosed();
  }

  deliver(event: EphemeralEvent, data: unknown): void {
    if (this.#subscription !== undefined) this.#send(ephemeralFrame(event, data));
  }

  tick(nowMs: number, ping: boolean): void {
    if (this.#closing) return;
    if (this.#principal !== undefined && this.#expired(nowMs)) {
      this.#send(errorFrame(new AppError('token_expired', 'The access token expired without re-authentication')));
      this.close(SYNC_CLOSE.unauthorized, REASON.expired);
      return;
    }
    if (!ping) return;
    if (!this.#alive) {
      this.#d.log.warn({ connection: this.connection }, 'sync connection missed a pong: dropped');
      this.terminate();
      return;
    }
    this.#alive = false;
    this.#socket.ping();
  }

  close(code: SyncCloseCode, reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#cleanup();
    this.#d.metrics?.websocketCloses.inc({ code: String(code) });
    this.#socket.close(code, reason);
  }

  terminate(): void {
    this.#closing = true;
    this.#cleanup();
    if (!this.#gone) this.#socket.terminate();
  }

  #authenticated(): Principal {
    if (this.#principal === undefined) throw new TypeError('SyncSession: not authenticated yet');
    return this.#principal;
  }

  #expired(nowMs: number): boolean {
    return nowMs > this.#expiresAtMs + this.#d.settings.clockToleranceSeconds * 1000;
  }

  #cleanup(): void {
    clearTimeout(this.#authTimer);
    this.#subscription?.close();
    if (this.#principal !== undefined) this.#d.hub.leave(this);
  }

  /** Queue a frame unless the client is too far behind: then close with 4008 (memory stays bounded). */
  #send(frame: string | Buffer): boolean {
    if (this.#closing) return false;
    const buffered = this.#socket.bufferedAmount;
    const bytes = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
    // An empty buffer always takes one frame, however large: a client can always make progress.
    if (buffered > 0 && buffered + bytes > this.#d.settings.sendBufferBytes) {
      this.close(SYNC_CLOSE.tooSlow, REASON.tooSlow);
      return false;
    }
    this.#socket.send(frame);
    return true;
  }

  async #handle(parsed: ParsedFrame): Promise<void> {
    this.#pending -= 1;
    if (this.#closing) return;
    if (!parsed.ok) {
      this.#send(errorFrame(new AppError('invalid_request', parsed.problem.detail), parsed.problem.ref));
      return;
    }
    const frame = parsed.frame;
    if (frame.type === 'auth') return this.#auth(frame);
    if (this.#principal === undefined) return this.close(SYNC_CLOSE.unauthorized, REASON.authFirst);
    if (this.#expired(this.#d.clock.now())) return this.close(SYNC_CLOSE.unauthorized, REASON.expired);
    switch (frame.type) {
      case 'subscribe':
        return this.#subscribe(frame);
      case 'append':
        return this.#append(frame);
      case 'typing':
        return this.#typing();
    }
  }

  async #auth(frame: Extract<ClientFrame, { type: 'auth' }>): Promise<void> {
    const current = this.#principal;
    const verified = await verifySyncToken(this.#d, frame.token, this.#ip);
    if (!verified.ok) {
      this.#send(errorFrame(verified.error, frame.ref));
      // A refused re-authentication leaves the connection on its current token, until that expires.
      if (current === undefined) this.close(SYNC_CLOSE.unauthorized, REASON.invalid);
      return;
    }
    const { principal, expiresAtMs } = verified;
    if (this.#d.isEnabled?.(principal.tenantId) === false) {
      this.#send(errorFrame(new AppError('not_implemented', 'Sync is turned off for this tenant'), frame.ref));
      this.close(SYNC_CLOSE.policy, REASON.off);
      return;
    }
    if (
      current !== undefined &&
      (principal.tenantId !== current.tenantId ||
        principal.subject !== current.subject ||
        principal.scope !== current.scope)
    ) {
      const refusal = new AppError('invalid_request', 'Re-authenticate with a token of the same subject and scope');
      this.#send(errorFrame(refusal, frame.ref));
      return;
    }
    let conversation: Awaited<ReturnType<ConversationService['open']>>;
    try {
      // The same access rule as every HTTP route (owner, participant, or admin token); a refusal is audited.
      conversation = await this.#d.conversations.open(principal, this.#conversationId, 'turn.read');
    } catch (error) {
      return this.#refuse(error, frame.ref);
    }
    if (this.#closing) return;
    clearTimeout(this.#authTimer);
    this.#principal = principal;
    this.#expiresAtMs = expiresAtMs;
    this.#send(
      readyFrame({
        conversationId: conversation.id,
        turn: conversation.turn,
        status: conversation.status,
        subject: principal.subject,
        expiresAt: new Date(expiresAtMs).toISOString(),
        connection: this.connection,
      }),
    );
    if (current === undefined) this.#d.hub.join(this);
  }

  async #subscribe(frame: Extract<ClientFrame, { type: 'subscribe' }>): Promise<void> {
    if (this.#subscription !== undefined) {
      const refusal = new AppError('invalid_request', 'Already subscribed: reconnect to subscribe from another id');
      this.#send(errorFrame(refusal, frame.ref));
      return;
    }
    const principal = this.#authenticated();
    await this.#d.audit.record(principal.tenantId, [
      conversationEvent('turn.read', subjectActor(principal), this.#conversationId, 'success', {
        stream: true,
        after: frame.after ?? '',
        transport: 'websocket',
      }),
    ]);
    if (this.#closing) return;
    const subscription = this.#d.events.subscribe(principal.tenantId, this.#conversationId, frame.after, {
      onTruncated: (oldestId) => this.#send(truncatedFrame(oldestId)),
    });
    this.#subscription = subscription;
    this.#send(subscribedFrame(frame.after, this.#d.hub.present(this)));
    void this.#pump(subscription);
  }

  /** Replay, then live: every stored event after the resume point, in id order, each once. */
  async #pump(subscription: EventSubscription): Promise<void> {
    try {
      for await (const event of subscription) {
        if (!this.#send(eventFrameBytes(event))) break;
      }
    } catch (error) {
      this.#d.log.error({ err: error }, 'sync event stream ended early');
      this.close(SYNC_CLOSE.tryAgainLater, REASON.busy);
    }
  }

  async #append(frame: Extract<ClientFrame, { type: 'append' }>): Promise<void> {
    try {
      this.#send(await appendFromFrame(this.#d, this.#authenticated(), this.#conversationId, frame));
    } catch (error) {
      this.#refuse(error, frame.ref);
    }
  }

  #typing(): void {
    const now = this.#d.clock.now();
    if (now - this.#lastTyping < TYPING_INTERVAL_MS) return;
    this.#lastTyping = now;
    this.#d.hub.typing(this);
  }

  /** An error that ends the connection, with the close code that tells the client what to do. */
  #refuse(error: unknown, ref?: string): void {
    if (!(error instanceof AppError)) throw error;
    this.#send(errorFrame(error, ref));
    const close = closeFor(error);
    if (close !== undefined) this.close(close.code, close.reason);
  }

  /** A frame's handling threw: a known error closes as {@link #refuse} says, anything else with 1011. */
  #failed(error: unknown): void {
    if (this.#closing) return;
    if (error instanceof AppError) {
      if (error.status >= 500) this.#d.log.error({ err: error }, 'sync frame failed');
      this.#refuse(error);
      return;
    }
    this.#d.log.error({ err: error }, 'sync frame failed');
    this.#send(errorFrame(new AppError('internal', 'The server failed to handle the frame')));
    this.close(SYNC_CLOSE.internal, REASON.failed);
  }
}
