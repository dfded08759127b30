import type { Principal } from '../auth/principal.ts';
import type { ContextService } from '../context/context-service.ts';
import type { ConversationService } from '../conversations/conversation-service.ts';
import type { TurnView } from '../conversations/views.ts';
import type { TenantId } from '../core/types.ts';
import { AppError } from '../errors/index.ts';
import { handlingFor, type IntentRouter, type ModelIntentClassifier } from '../intents/index.ts';
import { ModelError, type ModelMessage, type ModelProvider } from '../models/port.ts';
import type { Metrics } from '../observability/metrics.ts';
import { createCoalescer } from '../streaming/coalescer.ts';
import type { EventLog } from '../streaming/replay-buffer.ts';
import type { StreamPriority, StreamScheduler } from '../streaming/scheduler.ts';

export interface ReplyServiceOptions {
  conversations: ConversationService;
  context: ContextService;
  model: ModelProvider;
  intents: IntentRouter;
  events: EventLog;
  /** The stream scheduler: this node's, or the cluster-wide one on top of it when Redis is configured. */
  streams: StreamScheduler;
  metrics?: Metrics;
  /** Upper bound on reply tokens. */
  maxReplyTokens: number;
  /** How long a request may wait in the tenant's queue before `streams_busy`. */
  maxWaitMs: number;
  /** The model's second opinion on turns the rules leave at the fallback intent (CONTINUUM_INTENT_MODEL). */
  modelIntents?: ModelIntentClassifier;
  /** Called for every user turn escalated as an emergency (raises the `emergency_escalation` alert). */
  onEscalation?: (intent: string) => void;
  /** Delta coalescing (ADR-005): flush at this many bytes or this long after the first buffered byte. */
  coalesce?: { maxBytes: number; maxDelayMs: number };
  onError?: (error: unknown) => void;
}

export interface RespondOptions {
  priority: StreamPriority;
  /** Called with the queue position while the request waits for a stream slot. */
  onQueued?: (position: number) => void;
}

/**
 * Context-aware replies (ADR-005): waits for a slot in the tenant's stream
 * scheduler, builds the prompt from the working context, lets the intent
 * router pick the handling (an emergency is flagged and escalated), streams
 * the model's deltas into the conversation's event log (coalesced), and
 * stores the reply as the next turn. A client that goes away does not cancel
 * the reply. A provider failure ends the stream with `event: error`, keeps
 * the user's turn and stores no partial reply.
 */
export class ReplyService {
  readonly #o: ReplyServiceOptions;

  constructor(options: ReplyServiceOptions) {
    this.#o = options;
  }

  /** Generate and store the reply to `userTurn`; resolves with the stored reply turn. */
  async respond(principal: Principal, id: string, userTurn: TurnView, options: RespondOptions): Promise<TurnView> {
    const { tenantId } = principal;
    const conversationId = id as never;
    const replyNumber = userTurn.number + 1;
    let release: () => void;
    try {
      release = await this.#o.streams.acquire(tenantId, options.priority, {
        maxWaitMs: this.#o.maxWaitMs,
        ...(options.onQueued ? { onPosition: options.onQueued } : {}),
      });
    } catch (error) {
      await this.#fail(tenantId, conversationId, replyNumber, error);
      throw error;
    }
    const started = performance.now();
    try {
      const conversation = await this.#o.conversations.open(principal, id, 'context.read');
      // The turn being answered is in the recent window verbatim: the first delta need not wait for its facts
      // to reach the profile (that update is already under way).
      const built = await this.#o.context.build(conversation, undefined, { maxLagTurns: 1 });
      const intent = this.#o.modelIntents
        ? await this.#o.modelIntents.classify(userTurn.content)
        : this.#o.intents.classify(userTurn.content);
      const handling = handlingFor(intent.intent);
      if (handling.escalate) {
        this.#o.metrics?.escalations.inc({ intent: intent.intent });
        this.#o.onEscalation?.(intent.intent);
        await this.#o.events.append(tenantId, conversationId, {
          turn: userTurn.number,
          event: 'escalation',
          data: JSON.stringify({ turn: userTurn.number, intent: intent.intent, rules: intent.matched }),
        });
      }
      const messages: ModelMessage[] = [...built.prompt.messages];
      const insertAt = messages.findIndex((m) => m.role !== 'system');
      messages.splice(insertAt === -1 ? messages.length : insertAt, 0, {
        role: 'system',
        content: handling.systemPrompt,
      });
      const text = await this.#stream(
        tenantId,
        conversationId,
        replyNumber,
        messages,
        handling.maxReplyTokens,
        started,
      );
      const reply = await this.#o.conversations.appendAtEnd(principal, id, 'assistant', text);
      await this.#o.events.append(tenantId, conversationId, {
        turn: reply.number,
        event: 'done',
        data: JSON.stringify(reply),
      });
      this.#o.metrics?.replies.inc({ outcome: 'stored' });
      return reply;
    } catch (error) {
      await this.#fail(tenantId, conversationId, replyNumber, error);
      throw error instanceof ModelError
        ? new AppError('model_failed', `The model provider failed: ${error.message}`, { cause: error })
        : error;
    } finally {
      release();
    }
  }

  /** Stream the model's reply into the event log, coalesced; returns the whole text. */
  async #stream(
    tenantId: TenantId,
    conversationId: never,
    replyNumber: number,
    messages: ModelMessage[],
    maxTokens: number | undefined,
    started: number,
  ): Promise<string> {
    let text = '';
    let first = true;
    let writes: Promise<unknown> = Promise.resolve();
    const coalescer = createCoalescer({
      ...this.#o.coalesce,
      // The reply starts reaching the reader at the model's own pace; the rest is coalesced (ADR-005).
      firstAtOnce: true,
      onFlush: (chunk) => {
        writes = writes.then(() =>
          this.#o.events.append(tenantId, conversationId, {
            turn: replyNumber,
            event: 'delta',
            data: JSON.stringify({ text: chunk }),
          }),
        );
        writes.catch((error: unknown) => this.#o.onError?.(error));
      },
    });
    const generation = this.#o.model.generate({
      messages,
      maxTokens: Math.min(maxTokens ?? this.#o.maxReplyTokens, this.#o.maxReplyTokens),
      signal: new AbortController().signal,
    });
    try {
      for await (const delta of generation.deltas) {
        if (first) {
          first = false;
          this.#o.metrics?.tokenGeneration.observe({ kind: 'first_delta' }, (performance.now() - started) / 1000);
        }
        text += delta;
        coalescer.push(delta);
      }
      coalescer.end();
      await generation.result;
    } finally {
      await writes;
    }
    if (text.trim() === '')
      throw new ModelError(this.#o.model.kind, 'the provider returned an empty reply', { retryable: true });
    return text;
  }

  /** Tell the conversation's followers the reply failed (problem JSON), and count it. */
  async #fail(tenantId: TenantId, conversationId: never, replyNumber: number, error: unknown): Promise<void> {
    this.#o.metrics?.replies.inc({
      outcome: error instanceof AppError && error.code === 'streams_busy' ? 'busy' : 'failed',
    });
    const problem =
      error instanceof AppError
        ? { code: error.code, status: error.status, title: error.title, detail: error.message }
        : {
            code: 'model_failed',
            status: 502,
            title: 'The model provider failed',
            detail: error instanceof Error ? error.message : String(error),
          };
    try {
      await this.#o.events.append(tenantId, conversationId, {
        turn: replyNumber,
        event: 'error',
        data: JSON.stringify(problem),
      });
    } catch (appendError) {
      this.#o.onError?.(appendError);
    }
  }
}
