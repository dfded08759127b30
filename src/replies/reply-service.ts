import type { Principal } from '../auth/principal.ts';
import type { ContextService } from '../context/context-service.ts';
import type { ConversationService } from '../conversations/conversation-service.ts';
import type { TurnView } from '../conversations/views.ts';
import type { TenantId } from '../core/types.ts';
import { AppError } from '../errors/index.ts';
import { handlingFor, type IntentRouter, type ModelIntentClassifier } from '../intents/index.ts';
import { type Generation, ModelError, type ModelMessage, type ModelProvider } from '../models/port.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ConversationRecord } from '../store/port.ts';
import { createCoalescer } from '../streaming/coalescer.ts';
import type { EventLog } from '../streaming/replay-buffer.ts';
import type { ReleaseStream, StreamPriority, StreamScheduler } from '../streaming/scheduler.ts';

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
  /**
   * The reply {@link ReplyService.begin} started while the user turn was being stored. Used when it was begun
   * for exactly this turn; otherwise cancelled, and the reply starts from scratch.
   */
  early?: EarlyReply;
}

/**
 * A reply whose model call is under way while its user turn is being stored (ADR-005: the model's own
 * latency overlaps the append instead of following it). Nothing of it reaches the event log or any client
 * until {@link ReplyService.respond} takes it over for the stored turn.
 */
export interface EarlyReply {
  /** The number the user turn must be stored as for this reply to answer it. */
  readonly forTurn: number;
  /** Abort the model call and give the stream slot back: the turn was refused, or was a replay. Idempotent. */
  cancel(): void;
}

/** How the turn is handled (intent routing). */
interface Plan {
  intent: string;
  matched: unknown;
  escalate: boolean;
}

/** A generation under way, with its slot and what it was asked. */
interface Running {
  plan: Plan;
  generation: Generation;
  abort: AbortController;
  release: ReleaseStream;
  /** When the model was called (performance.now()), for the first-delta metric. */
  started: number;
}

/** The reason a reply cut off by a stopping server fails with. */
const interrupted = () =>
  new AppError('reply_interrupted', 'The server stopped before the reply was complete; the user turn is stored');

class Early implements EarlyReply {
  #taken = false;
  constructor(
    readonly forTurn: number,
    readonly running: Running,
  ) {}

  /** Hand the running generation over, once; undefined if cancelled or already taken. */
  take(): Running | undefined {
    if (this.#taken) return undefined;
    this.#taken = true;
    return this.running;
  }

  cancel(): void {
    if (this.#taken) return;
    this.#taken = true;
    this.running.abort.abort();
    // Nobody reads an aborted generation: its end must not surface as an unhandled rejection.
    this.running.generation.result.catch(() => undefined);
    this.running.release();
  }
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
  /** Replies being generated and stored, each with what to call once it is over (set by {@link interrupt}). */
  readonly #generating = new Map<Running, () => void>();

  constructor(options: ReplyServiceOptions) {
    this.#o = options;
  }

  /**
   * Start the reply to a user turn that is about to be appended after `expectedTurn`, so that the model call
   * overlaps the append. Only when it can start at once: a stream slot is free without queueing and the
   * conversation is open at `expectedTurn` (otherwise the append is about to be refused). Resolves to
   * undefined when it cannot; never rejects. The caller passes the result to {@link respond} once the turn is
   * stored, or cancels it when the append fails.
   */
  async begin(
    principal: Principal,
    id: string,
    input: { content: string; expectedTurn: number; priority: StreamPriority },
  ): Promise<EarlyReply | undefined> {
    let release: ReleaseStream;
    try {
      release = await this.#o.streams.acquire(principal.tenantId, input.priority, { maxWaitMs: 0 });
    } catch {
      return undefined; // No free slot now: the reply queues after the append, as any other.
    }
    try {
      const conversation = await this.#o.conversations.open(principal, id, 'context.read');
      if (conversation.status !== 'open' || conversation.turn !== input.expectedTurn) {
        release();
        return undefined;
      }
      const early = new Early(input.expectedTurn + 1, await this.#start(conversation, input.content, true, release));
      // Let the provider's SDK put its request on the wire before the append's synchronous work holds the loop:
      // an SDK needs a few turns of the event loop between `generate()` and the bytes leaving.
      await new Promise((resolve) => setImmediate(resolve));
      return early;
    } catch {
      // The append that follows meets the same refusal and answers it; this was only a head start.
      release();
      return undefined;
    }
  }

  /** Generate and store the reply to `userTurn`; resolves with the stored reply turn. */
  async respond(principal: Principal, id: string, userTurn: TurnView, options: RespondOptions): Promise<TurnView> {
    const { tenantId } = principal;
    const conversationId = id as never;
    const replyNumber = userTurn.number + 1;
    let running: Running | undefined;
    if (options.early instanceof Early && options.early.forTurn === userTurn.number) running = options.early.take();
    else options.early?.cancel();
    if (!running) {
      let release: ReleaseStream;
      try {
        release = await this.#o.streams.acquire(tenantId, options.priority, {
          maxWaitMs: this.#o.maxWaitMs,
          ...(options.onQueued ? { onPosition: options.onQueued } : {}),
        });
      } catch (error) {
        await this.#fail(tenantId, conversationId, replyNumber, error);
        throw error;
      }
      try {
        const conversation = await this.#o.conversations.open(principal, id, 'context.read');
        running = await this.#start(conversation, userTurn.content, false, release);
      } catch (error) {
        release();
        await this.#fail(tenantId, conversationId, replyNumber, error);
        throw error;
      }
    }
    const { plan } = running;
    this.#generating.set(running, () => {});
    try {
      if (plan.escalate) {
        this.#o.metrics?.escalations.inc({ intent: plan.intent });
        this.#o.onEscalation?.(plan.intent);
        await this.#o.events.append(tenantId, conversationId, {
          turn: userTurn.number,
          event: 'escalation',
          data: JSON.stringify({ turn: userTurn.number, intent: plan.intent, rules: plan.matched }),
        });
      }
      const text = await this.#stream(tenantId, conversationId, replyNumber, running);
      const reply = await this.#o.conversations.appendAtEnd(principal, id, 'assistant', text);
      await this.#o.events.append(tenantId, conversationId, {
        turn: reply.number,
        event: 'done',
        data: JSON.stringify(reply),
      });
      this.#o.metrics?.replies.inc({ outcome: 'stored' });
      return reply;
    } catch (error) {
      running.abort.abort();
      await this.#fail(tenantId, conversationId, replyNumber, error);
      throw error instanceof ModelError
        ? new AppError('model_failed', `The model provider failed: ${error.message}`, { cause: error })
        : error;
    } finally {
      running.release();
      const ended = this.#generating.get(running);
      this.#generating.delete(running);
      ended?.();
    }
  }

  /**
   * Cut off every reply still being generated (a stopping server whose grace period ran out): each model call
   * is aborted and the reply ends with `event: error` `reply_interrupted` in the event log, where its stream
   * and every follower on every node see it; the user turns stay, no partial reply is stored. Resolves, with
   * how many were cut off, once their error events are written or after `waitMs`.
   */
  async interrupt(waitMs = 2_000): Promise<number> {
    const cut = [...this.#generating];
    if (cut.length === 0) return 0;
    const ended = Promise.all(
      cut.map(
        ([running]) =>
          new Promise<void>((resolve) => {
            this.#generating.set(running, resolve);
            running.abort.abort(interrupted());
          }),
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ended, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    return cut.length;
  }

  /**
   * Build the prompt from the working context, route the intent and call the model. `message` is the user
   * message answered: the conversation's last turn, or — `pending` — the next one, not stored yet (an early start).
   */
  async #start(
    conversation: ConversationRecord,
    message: string,
    pending: boolean,
    release: ReleaseStream,
  ): Promise<Running> {
    // The turn being answered is in the recent window verbatim (or is the pending message): the first delta need
    // not wait for its facts to reach the profile (that update is already under way). Every turn before it has
    // reached the profile: a pending message allows no lag in the stored turns.
    const built = await this.#o.context.build(conversation, pending ? message : undefined, {
      maxLagTurns: pending ? 0 : 1,
    });
    const intent = this.#o.modelIntents
      ? await this.#o.modelIntents.classify(message)
      : this.#o.intents.classify(message);
    const handling = handlingFor(intent.intent);
    const messages: ModelMessage[] = [...built.prompt.messages];
    const insertAt = messages.findIndex((m) => m.role !== 'system');
    messages.splice(insertAt === -1 ? messages.length : insertAt, 0, {
      role: 'system',
      content: handling.systemPrompt,
    });
    const maxTokens = Math.min(handling.maxReplyTokens ?? this.#o.maxReplyTokens, this.#o.maxReplyTokens);
    const abort = new AbortController();
    const started = performance.now();
    const generation = this.#o.model.generate({ messages, maxTokens, signal: abort.signal });
    return {
      plan: { intent: intent.intent, matched: intent.matched, escalate: handling.escalate },
      generation,
      abort,
      release,
      started,
    };
  }

  /** Stream the model's reply into the event log, coalesced; returns the whole text. */
  async #stream(tenantId: TenantId, conversationId: never, replyNumber: number, running: Running): Promise<string> {
    const { generation, started } = running;
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
    try {
      for await (const delta of generation.deltas) {
        const arrived = first ? performance.now() : 0;
        text += delta;
        coalescer.push(delta);
        if (first) {
          first = false;
          // Observed once the first delta is stored and on its way: off the path to the reader.
          const observe = () =>
            this.#o.metrics?.tokenGeneration.observe({ kind: 'first_delta' }, (arrived - started) / 1000);
          writes.then(observe, observe);
        }
      }
      coalescer.end();
      const result = await generation.result;
      // An aborted generation ends its deltas early but without an error: what arrived is not the reply.
      if (result.stopReason === 'aborted') throw running.abort.signal.reason ?? interrupted();
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
