export { type Coalescer, type CoalescerOptions, createCoalescer } from './coalescer.ts';
export {
  compareEventIds,
  type EventId,
  type EventIdParts,
  formatEventId,
  isEventId,
  MAX_EVENT_SEQ,
  MAX_EVENT_TURN,
  parseEventId,
} from './event-id.ts';
export { type AppendEventInput, EventLog, type EventLogOptions, type SubscribeOptions } from './replay-buffer.ts';
export type { ReplayStore, StoredEvent } from './replay-store.ts';
export {
  type AcquireStreamOptions,
  defaultStreamsBusyError,
  MultiStreamManager,
  type MultiStreamManagerOptions,
  type ReleaseStream,
  STREAM_PRIORITIES,
  type StreamPriority,
  type StreamsBusyDetails,
} from './scheduler.ts';
export {
  createHeartbeat,
  formatComment,
  formatEvent,
  type Heartbeat,
  type HeartbeatOptions,
  parseLastEventId,
  SSE_HEADERS,
  type SseEvent,
} from './sse.ts';
export type { EventSubscription } from './subscription.ts';
export { systemTimers, type TimerHandle, type Timers } from './timers.ts';
