/**
 * Continuum's public surface for embedding and tooling. The HTTP contract is
 * documented in the OpenAPI document the server serves at `/openapi.json`.
 */
export { AuditTrail } from './audit/audit-trail.ts';
export type { AuditEvent, AuditEventInput } from './audit/event.ts';
export { type Config, ConfigError, configWith, loadConfig, SETTINGS, unknownSettings } from './config/index.ts';
export { conversationId } from './conversations/session-id.ts';
export { type Clock, FakeClock, systemClock } from './core/clock.ts';
export type { ConversationId, Role, Scope, TenantId } from './core/types.ts';
export type { KeyProvider } from './crypto/key-provider.ts';
export { createKmsKeyProvider } from './crypto/kms-key-provider.ts';
export { createLocalKeyProvider } from './crypto/local-key-provider.ts';
export { AppError, ERROR_CODES, type ErrorCode } from './errors/index.ts';
export { type AppDeps, buildApp, type ContinuumApp } from './server/app.ts';
export { createSqliteStore, type SqliteStoreOptions } from './store/adapters/sqlite/sqlite-store.ts';
export type { Store } from './store/port.ts';
export { createMemoryEventBus, type EventBus } from './sync/event-bus.ts';
