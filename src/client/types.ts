/**
 * The shapes of the HTTP API v1 as the SDK sees them (`../shared/API.md`,
 * `/openapi.json`). Written by hand so the SDK carries no server code into a
 * browser; the profile is the server's own type, imported as a type only.
 */
import type { Profile } from '../context/profile/types.ts';

export type { Profile };

/** Who wrote a turn. */
export type Role = 'user' | 'clinician' | 'assistant' | 'system';

/** Token scope: a subject's own conversations, or every conversation of the tenant plus audit. */
export type Scope = 'conversations' | 'admin';

/** Priority of a reply in the tenant's stream queue. */
export type Priority = 'high' | 'normal' | 'low';

/** A conversation. */
export interface Conversation {
  id: string;
  tenantId: string;
  subject: string;
  title: string | null;
  metadata: Record<string, string | number | boolean | null> | null;
  startedAt: string;
  createdAt: string;
  /** The number of the last turn (0 before the first). */
  turn: number;
  status: 'open' | 'closed';
  closedAt: string | null;
}

/** One stored turn. */
export interface Turn {
  number: number;
  role: Role;
  content: string;
  createdAt: string;
  /** SHA-256 of the previous hash and this turn (the conversation's hash chain). */
  hash: string;
}

/** A turn found by search, with its BM25 score. */
export interface ScoredTurn extends Turn {
  score: number;
}

/** `POST /v1/auth/token` answer (RFC 6749 field names). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  /** Seconds the access token lives. */
  expires_in: number;
  refresh_token: string;
  /** Seconds the new refresh token has left. */
  refresh_expires_in: number;
  scope: Scope;
}

/** `POST /v1/conversations` body. */
export interface CreateConversationInput {
  title?: string;
  metadata?: Record<string, string | number | boolean | null>;
  /** With `startedAt`: creating again returns the same conversation (ADR-002). */
  clientKey?: string;
  /** ISO 8601 date-time. */
  startedAt?: string;
}

/** What `conversations.create` resolves with. */
export interface CreatedConversation extends Conversation {
  /** `false` when the same subject, `clientKey` and `startedAt` already had this conversation. */
  created: boolean;
}

/** A page of conversations. */
export interface ConversationPage {
  items: Conversation[];
  /** Pass as `cursor` for the next page; `null` on the last one. */
  nextCursor: string | null;
}

/** `GET …/context`: what the model sees for the next turn. */
export interface WorkingContext {
  profile: Profile;
  summary: string;
  recent: Turn[];
  retrieved: Turn[];
  /** Tokens of the whole prompt. */
  tokens: number;
  /** The configured context budget (`CONTINUUM_CONTEXT_TOKENS`). */
  budget?: number;
  /** Messages in the prompt. */
  messages?: number;
  [extra: string]: unknown;
}

/** `PATCH …/profile` body: a clinician's review of one fact. */
export interface ProfilePatch {
  op: 'confirm' | 'correct' | 'retract';
  /** The fact: its `kind`, its `id` (e.g. `med:metformin`) and, for `correct`, the corrected fields. */
  fact: { kind: Profile[ProfileSection][number]['kind']; id?: string; [field: string]: unknown };
}

type ProfileSection = Exclude<keyof Profile, 'version' | 'retracted'>;

/** The problem document an `error` event carries. */
export interface ProblemData {
  code: string;
  status: number;
  title?: string;
  detail: string;
  [extra: string]: unknown;
}

interface EventBase {
  /** Opaque, increasing within a conversation; resume after it with `after`. */
  id: string;
}

/** A stored turn (the user's, or on `/events` also the stored reply). */
export interface TurnEvent extends EventBase {
  event: 'turn';
  data: Turn;
}
/** A piece of the reply's text. */
export interface DeltaEvent extends EventBase {
  event: 'delta';
  data: { text: string };
}
/** The stored reply turn: the reply is complete. */
export interface DoneEvent extends EventBase {
  event: 'done';
  data: Turn;
}
/** The reply failed (the user's turn is stored, no partial reply is). */
export interface ErrorEvent extends EventBase {
  event: 'error';
  data: ProblemData;
}
/** The intent router flagged the turn (e.g. an emergency). */
export interface EscalationEvent extends EventBase {
  event: 'escalation';
  data: { turn: number; intent: string; rules?: string[]; [extra: string]: unknown };
}
/** Other events a conversation publishes (`context`, `presence`, `typing`, `closed`, and later ones): data as sent. */
export interface OtherEvent extends EventBase {
  event: 'context' | 'presence' | 'typing' | 'closed';
  data: unknown;
}

/**
 * One event of a conversation, from an SSE stream or from sync. Switch on
 * `event` to narrow `data`. An event name this SDK does not know yet is
 * still delivered, with its data parsed as JSON when it is JSON.
 */
export type ConversationEvent = TurnEvent | DeltaEvent | DoneEvent | ErrorEvent | EscalationEvent | OtherEvent;

/** A clock in milliseconds since the epoch; inject a fake one in tests. */
export interface Clock {
  now(): number;
}

/** The `fetch` the SDK calls: the global one by default. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;
