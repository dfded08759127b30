/**
 * `continuum/client`: the TypeScript SDK of the Continuum HTTP API. Runs in
 * Node 20 and in browsers (it needs only `fetch`, `AbortController`,
 * `TextDecoderStream`, `crypto` and, for sync, a `WebSocket`).
 *
 * @example
 * import { createClient, ContinuumError } from 'continuum/client';
 * const client = createClient({ baseUrl: 'http://127.0.0.1:8080', apiKey, subject: 'patient-42' });
 */
export { type BackoffOptions, newIdempotencyKey } from './backoff.ts';
export { type ClientOptions, ContinuumClient, createClient } from './client.ts';
export { ConversationsApi } from './conversations-api.ts';
export {
  type ClientErrorCode,
  ContinuumError,
  type ContinuumErrorCode,
  isContinuumError,
  type Problem,
} from './errors.ts';
export { EventFollower, type FollowOptions } from './event-follower.ts';
export type { StreamOptions } from './event-stream.ts';
export type { AppendInput, RebaseInfo } from './rebase.ts';
export { type ReplyResult, ReplyStream, type ReplyStreamOptions } from './reply-stream.ts';
export { type SseMessage, SseParser, type SseParserHooks } from './sse-parser.ts';
export type { ClientStats } from './stats.ts';
export { SyncConnection } from './sync.ts';
export type {
  EphemeralEvent,
  SyncAck,
  SyncAppendInput,
  SyncEvent,
  SyncOptions,
  SyncPresence,
  SyncPresentMember,
  SyncReady,
  SyncState,
  SyncSubscribed,
  SyncTimers,
  WebSocketConstructor,
  WebSocketLike,
} from './sync-types.ts';
export { defaultRefreshAt, type RefreshAt, TokenManager, type TokenManagerOptions } from './token-manager.ts';
export { type AppendResult, type StreamedAppendInput, TurnsApi } from './turns-api.ts';
export type {
  Clock,
  Conversation,
  ConversationEvent,
  ConversationPage,
  CreateConversationInput,
  CreatedConversation,
  DeltaEvent,
  DoneEvent,
  ErrorEvent,
  EscalationEvent,
  FetchLike,
  OtherEvent,
  Priority,
  ProblemData,
  Profile,
  ProfilePatch,
  Role,
  Scope,
  ScoredTurn,
  TokenResponse,
  Turn,
  TurnEvent,
  WorkingContext,
} from './types.ts';
