import type { AuditTrail } from '../audit/audit-trail.ts';
import type { AccessTokens } from '../auth/access-tokens.ts';
import type { TokenService } from '../auth/token-service.ts';
import type { ConversationService } from '../conversations/conversation-service.ts';
import type { Clock } from '../core/clock.ts';
import type { TenantId } from '../core/types.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ReplyService } from '../replies/reply-service.ts';
import type { EventLog } from '../streaming/replay-buffer.ts';
import type { SyncHub } from './sync-hub.ts';

/** The transport under a session: what the WebSocket binding provides. */
export interface SyncSocket {
  /** Bytes queued for sending and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Send one text frame (a string, or its UTF-8 bytes). */
  send(text: string | Buffer): void;
  close(code: number, reason: string): void;
  terminate(): void;
  ping(): void;
}

/** Limits of a sync session, from the configuration. */
export interface SyncSettings {
  /** Most bytes queued for one connection; a frame that does not fit closes it with 4008. */
  sendBufferBytes: number;
  maxFrameBytes: number;
  maxTurnChars: number;
  /** Seconds a token is still accepted after its `exp` (as over HTTP). */
  clockToleranceSeconds: number;
  /** The first frame must be `auth` within this long. Default `AUTH_TIMEOUT_MS` (10 s). */
  authTimeoutMs?: number;
}

/** What a sync session needs of the rest of the server. */
export interface SyncSessionDeps {
  conversations: ConversationService;
  replies: ReplyService;
  events: EventLog;
  accessTokens: AccessTokens;
  tokens: TokenService;
  audit: AuditTrail;
  hub: SyncHub;
  clock: Clock;
  settings: SyncSettings;
  metrics?: Metrics;
  /** Whether sync is on for a tenant (the `sync` feature flag); on when omitted. */
  isEnabled?: (tenantId: TenantId) => boolean;
  log: { warn(details: object, message: string): void; error(details: object, message: string): void };
}
