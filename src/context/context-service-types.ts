/**
 * The contracts of the working-context service: the turn readers it is given, its options, and the working
 * context it builds (re-exported from `context-service.ts`).
 */

import type { TurnView } from '../conversations/views.ts';
import type { Clock } from '../core/clock.ts';
import type { TenantId } from '../core/types.ts';
import type { TenantCipher } from '../crypto/data-keys.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ConversationRecord, Store } from '../store/port.ts';
import type { ModelExtractor } from './model-extractor.ts';
import type { Profile } from './profile/index.ts';
import type { BuiltPrompt } from './prompt-builder.ts';
import type { Summarizer } from './summarizer.ts';

/** Verified, decrypted turns of a conversation after `after` (the turn engine's reader). */
export type TurnReader = (
  tenantId: TenantId,
  c: ConversationRecord,
  after: number,
  limit: number,
  options?: { keep?: boolean },
) => Promise<TurnView[]>;

/** Verified, decrypted turns of a conversation by number, in the order asked (retrieval's reader: one store call). */
export type TurnsAtReader = (
  tenantId: TenantId,
  c: ConversationRecord,
  numbers: readonly number[],
) => Promise<TurnView[]>;

/** What a `ContextService` is made of: its ports, its token budgets, its feature flags and its cache size. */
export interface ContextServiceOptions {
  store: Store;
  clock: Clock;
  cipher: TenantCipher;
  summarizer: Summarizer;
  readTurns: TurnReader;
  readTurnsAt: TurnsAtReader;
  /** A model-backed extractor (when a real model is configured); the embedded one stays the floor and fallback. */
  extractor?: ModelExtractor;
  /** Token budget of the prompt (CONTINUUM_CONTEXT_TOKENS). */
  budgetTokens: number;
  /** Messages kept verbatim at most; older ones fold into the summary. */
  recentMessages: number;
  /**
   * Token budget of the messages kept verbatim (CONTINUUM_CONTEXT_RECENT_TOKENS), counted as the prompt
   * sends them; older ones fold into the summary. The last 2 messages are kept even when they alone are larger.
   * Default: no limit beyond `recentMessages`.
   */
  recentTokens?: number;
  /**
   * Token budget of the older turns retrieved for the next message (CONTINUUM_CONTEXT_RETRIEVED_TOKENS),
   * counted as the prompt's retrieved block sends them; filled in rank order. Default: no limit.
   */
  retrievedTokens?: number;
  /**
   * Token budget of the profile block (CONTINUUM_CONTEXT_PROFILE_TOKENS): the facts that matter most for the
   * next turn, within it; the full profile stays in the state. Default: no limit.
   */
  profileTokens?: number;
  /** Messages older than this leave the working context (they stay in the record). */
  maxAgeMs: number;
  /** The summarizer for tenants `useModel` keeps off the model-backed one (default: `summarizer`). */
  embeddedSummarizer?: Summarizer;
  /** Whether `summarizer` and `extractor` (model-backed) serve a tenant (feature flag `model-context`); default yes. */
  useModel?: (tenantId: TenantId) => boolean;
  /** Whether older turns are retrieved into a tenant's working context (feature flag `retrieval`); default yes. */
  useRetrieval?: (tenantId: TenantId) => boolean;
  systemPrompt: string;
  metrics?: Metrics;
  /** Conversations whose search index and state this node keeps in memory. */
  cacheSize?: number;
}

/** Options of {@link ContextService.build}. */
export interface BuildOptions {
  /**
   * Build from the state this node holds when it lags the conversation by at most this many turns, instead of
   * waiting for them to be taken in (default 0: wait). A reply uses 1: the user turn it answers is in the recent
   * window verbatim, so the model sees it whether or not its facts are in the profile yet.
   */
  maxLagTurns?: number;
}

/** The working context of ADR-004, as `GET …/context` returns it. */
export interface WorkingContext {
  /** The profile's facts that fit the profile budget (all of them when it fits). */
  profile: Profile;
  /** Facts of the full profile left out of this view for lack of budget. */
  profileOmitted: number;
  summary: string;
  recent: TurnView[];
  retrieved: (TurnView & { score: number })[];
  tokens: number;
  prompt: BuiltPrompt;
}
