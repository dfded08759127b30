import type { AuditTrail } from '../audit/audit-trail.ts';
import type { AccessTokens } from '../auth/access-tokens.ts';
import type { SigningKeyring } from '../auth/signing-keys.ts';
import type { TokenService } from '../auth/token-service.ts';
import type { Config } from '../config/index.ts';
import type { ContextService } from '../context/context-service.ts';
import type { ConversationService } from '../conversations/conversation-service.ts';
import type { ParticipantService } from '../conversations/participant-service.ts';
import type { SessionRegistry } from '../conversations/session-pool.ts';
import type { Clock } from '../core/clock.ts';
import type { TenantCipher } from '../crypto/data-keys.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import type { FlagService } from '../flags/index.ts';
import type { IntentRouter } from '../intents/index.ts';
import type { ModelProvider } from '../models/port.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Operations } from '../observability/operations.ts';
import type { ReplyService } from '../replies/reply-service.ts';
import type { Store } from '../store/port.ts';
import type { EventLog } from '../streaming/replay-buffer.ts';
import type { EventBus } from '../sync/event-bus.ts';
import type { SyncHub } from '../sync/sync-hub.ts';
import type { TenantService } from '../tenants/tenant-service.ts';
import type { AuthHooks } from './plugins/auth.ts';

/** Everything routes may call, built once by `buildApp`. */
export interface Services {
  config: Config;
  clock: Clock;
  store: Store;
  bus: EventBus;
  keyProvider: KeyProvider;
  /** Seals and opens tenant data (ADR-008). */
  cipher: TenantCipher;
  keyring: SigningKeyring;
  accessTokens: AccessTokens;
  tokens: TokenService;
  audit: AuditTrail;
  /** Feature flags (per tenant, shared through the store). */
  flags: FlagService;
  tenants: TenantService;
  conversations: ConversationService;
  context: ContextService;
  intents: IntentRouter;
  model: ModelProvider;
  /** Every conversation's event stream (resumable SSE). */
  events: EventLog;
  replies: ReplyService;
  sessions: SessionRegistry;
  metrics: Metrics;
  /** Alerts, readiness, EMF (docs/OPERATIONS.md). */
  operations: Operations;
  /** Who takes part in a conversation besides its owner. */
  participants: ParticipantService;
  /** This node's WebSocket sync connections: presence, typing, ping and expiry sweeps. */
  sync: SyncHub;
  auth: AuthHooks;
}
