import type { Clock } from '../core/clock.ts';
import type { ConversationId, TenantId } from '../core/types.ts';
import type { EventLog } from '../streaming/replay-buffer.ts';
import type { ConversationEvent, EventBus } from './event-bus.ts';
import type { PresentMember } from './frames.ts';
import type { EphemeralEvent, SyncCloseCode } from './protocol.ts';
import { SYNC_CLOSE } from './protocol.ts';

/** What the hub needs of one sync connection (a `SyncSession`). */
export interface SyncMember {
  /** Opaque id of the connection, shown to others in presence and typing events. */
  readonly connection: string;
  readonly tenantId: TenantId;
  readonly conversationId: ConversationId;
  /** The authenticated subject (set once the member joins a room). */
  readonly subject: string;
  /** True for an admin-scope token: a participant removal does not apply to it. */
  readonly admin: boolean;
  /** Send an ephemeral event (subscribed members only; others drop it). */
  deliver(event: EphemeralEvent, data: unknown): void;
  /** Periodic check: token expiry against `nowMs` (the injected clock), and a ping when `ping` is set. */
  tick(nowMs: number, ping: boolean): void;
  close(code: SyncCloseCode, reason: string): void;
  /** Drop the connection without a close handshake. */
  terminate(): void;
  /** Resolves once the connection is gone. */
  readonly closed: Promise<void>;
}

export interface SyncHubOptions {
  bus: EventBus;
  events: EventLog;
  /** This node's id (the same one its synced replay store publishes with). */
  node: string;
  clock: Clock;
  /** Ping every connection this often (real time); one that has not answered the previous ping is dropped. */
  pingIntervalMs: number;
  /** How often token expiry is checked (default 1 000 ms of real time). */
  sweepIntervalMs?: number;
  /** How long a shutdown waits for close handshakes before dropping connections (default 2 000 ms). */
  shutdownGraceMs?: number;
  /** Told of each event another node stored, before its followers here are woken (the synced store's `noticed`). */
  onNotice?: (tenantId: TenantId, conversationId: ConversationId, eventId: string) => void;
  /** Told of the connection count whenever it changes (the metrics gauge). */
  onCount?: (count: number) => void;
  onError?: (error: unknown) => void;
}

interface Room {
  tenantId: TenantId;
  conversationId: ConversationId;
  local: Map<string, SyncMember>;
  /** Connections on other nodes, as their presence announcements told. */
  remote: Map<string, { subject: string; node: string }>;
  unsubscribe: () => void;
}

const keyOf = (tenantId: string, conversationId: string) => `${tenantId}\u0000${conversationId}`;

/**
 * Every sync connection of this node, grouped by conversation (ADR-006).
 * Stored events reach connections through the conversation's event log;
 * the hub carries what is not stored: presence (who watches, on any node),
 * typing, context updates and closes, fanned out through the EventBus. It
 * wakes the event log's followers when another node stored an event, runs
 * the ping and token-expiry sweeps, and closes everything with 1012 on
 * shutdown.
 */
export class SyncHub {
  readonly #o: SyncHubOptions;
  readonly #members = new Set<SyncMember>();
  readonly #rooms = new Map<string, Room>();
  /** The room each joined member is in. */
  readonly #roomOf = new Map<SyncMember, Room>();
  readonly #timer: NodeJS.Timeout;
  readonly #sweepMs: number;
  #lastPing = Date.now();
  #shuttingDown = false;
  /** The Redis bus's last connection error already caught up on. */
  #lastBusError: Error | undefined;

  constructor(options: SyncHubOptions) {
    if (!(options.pingIntervalMs > 0)) throw new TypeError('SyncHub: pingIntervalMs must be positive');
    this.#o = options;
    this.#lastBusError = (options.bus as EventBus & { lastError?: Error }).lastError;
    this.#sweepMs = Math.min(options.sweepIntervalMs ?? 1_000, options.pingIntervalMs);
    this.#timer = setInterval(() => this.#sweep(), this.#sweepMs);
    this.#timer.unref();
  }

  /** Open connections on this node. */
  get size(): number {
    return this.#members.size;
  }

  get node(): string {
    return this.#o.node;
  }

  /** Track a new connection; false (and nothing tracked) once shutting down: close it with 1012. */
  register(member: SyncMember): boolean {
    if (this.#shuttingDown) return false;
    this.#members.add(member);
    this.#o.onCount?.(this.#members.size);
    return true;
  }

  /** Forget a closed connection (leaving its room first). */
  unregister(member: SyncMember): void {
    this.leave(member);
    if (this.#members.delete(member)) this.#o.onCount?.(this.#members.size);
  }

  /**
   * An authenticated connection joins its conversation's room: the others
   * (here and on other nodes) see it `joined`. Returns who else is present.
   */
  join(member: SyncMember): PresentMember[] {
    const room = this.#room(member.tenantId, member.conversationId);
    const present = this.#present(room, member);
    if (this.#roomOf.has(member)) return present;
    room.local.set(member.connection, member);
    this.#roomOf.set(member, room);
    this.#fanOut(
      room,
      'presence',
      { subject: member.subject, connection: member.connection, status: 'joined' },
      member,
    );
    this.#publish({ type: 'presence', ...this.#ids(member), status: 'joined' });
    return present;
  }

  /** Who is present in the member's room, the member excepted. */
  present(member: SyncMember): PresentMember[] {
    const room = this.#roomOf.get(member);
    return room === undefined ? [] : this.#present(room, member);
  }

  /** The connection stopped watching: the others see it `left`. */
  leave(member: SyncMember): void {
    const room = this.#roomOf.get(member);
    if (room === undefined) return;
    this.#roomOf.delete(member);
    room.local.delete(member.connection);
    this.#fanOut(room, 'presence', { subject: member.subject, connection: member.connection, status: 'left' }, member);
    this.#publish({ type: 'presence', ...this.#ids(member), status: 'left' });
    if (room.local.size === 0) {
      room.unsubscribe();
      this.#rooms.delete(keyOf(room.tenantId, room.conversationId));
    }
  }

  /** The member is typing: tell the others of the conversation, on every node. */
  typing(member: SyncMember): void {
    const room = this.#roomOf.get(member);
    if (room === undefined) return;
    this.#fanOut(room, 'typing', { subject: member.subject, connection: member.connection }, member);
    this.#publish({ type: 'typing', ...this.#ids(member) });
  }

  /**
   * Keep this node's followers of a conversation's event log (e.g. an SSE
   * `GET …/events` response) up to date with events stored by other nodes,
   * until the returned function is called.
   */
  follow(tenantId: TenantId, conversationId: ConversationId): () => void {
    return this.#o.bus.subscribe({ tenantId, conversationId }, (event) => {
      if (event.type === 'stream.appended') this.#remoteEvent(event);
    });
  }

  /**
   * Close every connection with 1012 (server restarting) and wait for them
   * to go, dropping those that do not finish their close handshake in time.
   */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    clearInterval(this.#timer);
    const members = [...this.#members];
    for (const member of members) member.close(SYNC_CLOSE.restarting, 'server restarting: reconnect and resubscribe');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.#o.shutdownGraceMs ?? 2_000);
    });
    const all = Promise.all(members.map((member) => member.closed));
    if ((await Promise.race([all, grace])) === 'late') for (const member of this.#members) member.terminate();
    clearTimeout(timer);
  }

  #ids(member: SyncMember) {
    return {
      tenantId: member.tenantId,
      conversationId: member.conversationId,
      subject: member.subject,
      connection: member.connection,
      node: this.#o.node,
    };
  }

  #present(room: Room, except: SyncMember): PresentMember[] {
    const present: PresentMember[] = [];
    for (const member of room.local.values()) {
      if (member !== except) present.push({ subject: member.subject, connection: member.connection });
    }
    for (const [connection, { subject }] of room.remote) present.push({ subject, connection });
    return present;
  }

  #room(tenantId: TenantId, conversationId: ConversationId): Room {
    const key = keyOf(tenantId, conversationId);
    const existing = this.#rooms.get(key);
    if (existing) return existing;
    const room: Room = { tenantId, conversationId, local: new Map(), remote: new Map(), unsubscribe: () => {} };
    room.unsubscribe = this.#o.bus.subscribe({ tenantId, conversationId }, (event) => this.#onBusEvent(room, event));
    this.#rooms.set(key, room);
    void this.#afterSubscribed(room);
    return room;
  }

  /**
   * Once the bus delivers this conversation's events here: catch up on any
   * event stored elsewhere meanwhile, and ask the other nodes who is present.
   */
  async #afterSubscribed(room: Room): Promise<void> {
    const bus = this.#o.bus as EventBus & { subscribed?: () => Promise<void> };
    try {
      await bus.subscribed?.();
    } catch (error) {
      this.#o.onError?.(error);
    }
    if (this.#rooms.get(keyOf(room.tenantId, room.conversationId)) !== room) return;
    this.#o.events.wake(room.tenantId, room.conversationId);
    this.#publish({
      type: 'presence.query',
      tenantId: room.tenantId,
      conversationId: room.conversationId,
      node: this.#o.node,
    });
  }

  #onBusEvent(room: Room, event: ConversationEvent): void {
    const self = this.#o.node;
    switch (event.type) {
      case 'stream.appended':
        this.#remoteEvent(event);
        return;
      case 'presence': {
        if (event.node === self) return;
        const { subject, connection } = event;
        if (event.status === 'left') {
          if (room.remote.delete(connection)) this.#fanOut(room, 'presence', { subject, connection, status: 'left' });
        } else if (!room.remote.has(connection)) {
          room.remote.set(connection, { subject, node: event.node });
          this.#fanOut(room, 'presence', { subject, connection, status: 'joined' });
        }
        return;
      }
      case 'presence.query':
        if (event.node === self) return;
        for (const member of room.local.values())
          this.#publish({ type: 'presence', ...this.#ids(member), status: 'present' });
        return;
      case 'typing':
        if (event.node !== self) this.#fanOut(room, 'typing', { subject: event.subject, connection: event.connection });
        return;
      case 'context.updated':
        this.#fanOut(room, 'context', { throughTurn: event.throughTurn });
        return;
      case 'conversation.closed':
        this.#fanOut(room, 'closed', { turn: event.turn, closedAt: event.at });
        return;
      case 'participant.removed':
        for (const member of [...room.local.values()]) {
          if (member.subject === event.subject && !member.admin) {
            member.close(SYNC_CLOSE.notFound, 'no longer a participant of this conversation');
          }
        }
        return;
      default:
        return;
    }
  }

  /** Another node stored an event: this node's followers of the conversation read it from the store. */
  #remoteEvent(event: Extract<ConversationEvent, { type: 'stream.appended' }>): void {
    if (event.node === this.#o.node) return;
    this.#o.onNotice?.(event.tenantId, event.conversationId, event.eventId);
    this.#o.events.wake(event.tenantId, event.conversationId);
  }

  #fanOut(room: Room, event: EphemeralEvent, data: unknown, except?: SyncMember): void {
    for (const member of [...room.local.values()]) if (member !== except) member.deliver(event, data);
  }

  #publish(event: ConversationEvent): void {
    this.#o.bus.publish(event).catch((error: unknown) => this.#o.onError?.(error));
  }

  /**
   * Notices published while the bus was down are lost (the events are in the
   * store): once it is back, every room here reads the store again and asks
   * again who is present. An outage shows as a new `lastError` on the Redis
   * bus, however short it was.
   */
  #catchUpAfterBusOutage(): void {
    const bus = this.#o.bus as EventBus & { healthy?: boolean; lastError?: Error };
    if (bus.healthy !== true || bus.lastError === this.#lastBusError) return;
    this.#lastBusError = bus.lastError;
    for (const room of this.#rooms.values()) {
      this.#o.events.wake(room.tenantId, room.conversationId);
      this.#publish({
        type: 'presence.query',
        tenantId: room.tenantId,
        conversationId: room.conversationId,
        node: this.#o.node,
      });
    }
  }

  #sweep(): void {
    const now = this.#o.clock.now();
    // Half a sweep of slack: timers fire a little early or late, and a ping must not slip a whole sweep.
    const ping = Date.now() - this.#lastPing >= this.#o.pingIntervalMs - this.#sweepMs / 2;
    if (ping) this.#lastPing = Date.now();
    this.#catchUpAfterBusOutage();
    for (const member of [...this.#members]) {
      try {
        member.tick(now, ping);
      } catch (error) {
        this.#o.onError?.(error);
      }
    }
  }
}
